import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import MDRServer

/// `mdr serve` ends within a bound of SIGTERM whatever its services do: a shutdown that overruns names what it still
/// waits for (and the process exits). No database: the services are closures.
@Suite("Shutdown deadline")
struct ShutdownDeadlineTests {
    /// A service that ends only when released, and neither on a graceful shutdown nor on cancellation (as a query on a
    /// connection the server closed).
    struct Stubborn: Service {
        let released: AsyncStream<Void>
        func run() async {
            await Task.detached { [released] in for await _ in released { return } }.value
        }
    }

    struct Prompt: Service {
        func run() async throws {
            try? await gracefulShutdown()
        }
    }

    @Test func aShutdownThatOverrunsNamesTheServicesItStillWaitsFor() async throws {
        let (released, release) = AsyncStream.makeStream(of: Void.self)
        let (overruns, overran) = AsyncStream.makeStream(of: [String].self)
        let running = RunningServices()
        // The limit runs out when the test says so: once the prompt service has ended, whatever the machine's speed.
        let (limitReached, reachLimit) = AsyncStream.makeStream(of: Void.self)
        let deadline = ShutdownDeadline(
            limit: .seconds(13), running: running, sleep: { _ in for await _ in limitReached { return } }
        ) { stillRunning in
            overran.yield(stillRunning)
            release.yield()
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: running.track("stubborn", Stubborn(released: released))),
                    .init(service: running.track("prompt", Prompt())),
                    .init(service: deadline, successTerminationBehavior: .ignore),
                ],
                logger: Logger(label: "test")))
        let run = Task { try await group.run() }
        try await waitUntil("both services running") { running.current.count == 2 }
        await group.triggerGracefulShutdown()
        try await waitUntil("the prompt service ended") { running.current == ["stubborn"] }
        reachLimit.yield()
        var iterator = overruns.makeAsyncIterator()
        let stillRunning = await iterator.next()
        #expect(stillRunning == ["stubborn"])
        try await run.value
        #expect(running.current.isEmpty)
    }

    @Test func aShutdownWithinTheLimitIsNoOverrun() async throws {
        let overran = Mutex(false)
        let running = RunningServices()
        let deadline = ShutdownDeadline(limit: .seconds(600), running: running) { _ in overran.withLock { $0 = true } }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: running.track("prompt", Prompt())), .init(service: deadline, successTerminationBehavior: .ignore)],
                logger: Logger(label: "test")))
        let run = Task { try await group.run() }
        try await waitUntil("the service running") { running.current.count == 1 }
        await group.triggerGracefulShutdown()
        try await run.value
        deadline.disarm()
        await deadline.settled()
        #expect(!overran.withLock { $0 })
    }
}
