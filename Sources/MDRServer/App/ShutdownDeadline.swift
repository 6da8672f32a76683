import Foundation
import Logging
import Synchronization
import ServiceLifecycle

/// The services of a group that have started and not yet ended, by name: what a shutdown that overran still waits for.
public final class RunningServices: Sendable {
    private let names = Mutex<[String]>([])

    public init() {}

    /// The names, in the order they started.
    public var current: [String] { names.withLock { $0 } }

    /// `service`, counted as running under `name` while its `run` has not returned.
    public func track(_ name: String, _ service: any Service) -> any Service { Tracked(name: name, service: service, running: self) }

    private struct Tracked: Service {
        let name: String
        let service: any Service
        let running: RunningServices

        func run() async throws {
            running.names.withLock { $0.append(name) }
            defer { running.names.withLock { names in names.removeAll { $0 == name } } }
            try await service.run()
        }
    }
}

/// A bound on the whole shutdown, whatever the services do. Placed last in a group, it is the first service asked to
/// stop (a group stops its services in reverse order); from then, if the group has not ended within `limit`,
/// `onOverrun` gets the names of the services still running.
///
/// The group's own limits come first (a graceful shutdown longer than its maximum becomes a cancellation), but a task
/// that ignores cancellation keeps a group waiting for ever: a query on a connection the server closed can (see
/// docs/decisions.md, "A closed connection can hang a query"), and so can a pool that waits for such a query's
/// connection. `mdr serve` then logs what it still waited for and exits with status 1: its work is in the database,
/// which the next start resumes from, and an orchestrator waiting for the process gets it back.
public final class ShutdownDeadline: Service, Sendable {
    public let limit: Duration
    public let running: RunningServices
    let onOverrun: @Sendable (_ stillRunning: [String]) -> Void
    let sleep: @Sendable (Duration) async throws -> Void
    private let timer = Mutex<Task<Void, Never>?>(nil)

    /// `sleep` waits out the limit (tests pass one they end themselves).
    public init(
        limit: Duration, running: RunningServices, sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        onOverrun: @escaping @Sendable (_ stillRunning: [String]) -> Void
    ) {
        self.limit = limit
        self.running = running
        self.sleep = sleep
        self.onOverrun = onOverrun
    }

    /// Waits for the group's shutdown (graceful, or a cancellation when another service failed), then starts the
    /// timer and returns, so that the group goes on stopping the others.
    public func run() async {
        try? await gracefulShutdown()
        let (limit, running, onOverrun, sleep) = (self.limit, self.running, self.onOverrun, self.sleep)
        // Unstructured: it must outlive this service's `run` and the group's cancellation.
        let task = Task.detached {
            do {
                try await sleep(limit)
            } catch {
                return
            }
            onOverrun(running.current)
        }
        timer.withLock { $0 = task }
    }

    /// The group ended: no overrun.
    public func disarm() {
        timer.withLock { $0?.cancel() }
    }

    /// Until the timer has fired or been disarmed (for tests).
    func settled() async {
        await timer.withLock { $0 }?.value
    }

    /// What `mdr serve` does on an overrun: it says so, and ends the process.
    public static func exitProcess(logger: Logger, limit: Duration) -> @Sendable ([String]) -> Void {
        { stillRunning in
            logger.critical(
                "the shutdown did not end within \(limit) of its start; exiting with status 1",
                metadata: ["services.running": "\(stillRunning.joined(separator: ", "))"])
            exit(1)
        }
    }
}
