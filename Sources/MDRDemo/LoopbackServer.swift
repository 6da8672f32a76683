import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Runs a Hummingbird router on an ephemeral loopback port for the duration of `body`, which gets the port; the server
/// stops gracefully when `body` returns or throws (no request is cut off, nothing is logged as an error). The demo's
/// stand-ins for the world outside (Dynamic's webhook, Defender for Endpoint) run this way.
enum LoopbackServer {
    struct NotStarted: Error, CustomStringConvertible {
        var name: String
        var description: String { "the \(name) did not start listening" }
    }

    static func run<T: Sendable>(
        _ router: Router<BasicRequestContext>, name: String, port requested: Int = 0, _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "mdr.demo.\(name.replacingOccurrences(of: " ", with: "-"))")
        logger.logLevel = .warning
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: requested), serverName: name),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port { portContinuation.yield(port) }
                portContinuation.finish()
            }, logger: logger)
        let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // A server that fails to start ends the port stream, so the wait below ends too.
                defer { portContinuation.finish() }
                try await services.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await group.next()
                throw NotStarted(name: name)
            }
            do {
                let result = try await body(port)
                await services.triggerGracefulShutdown()
                return result
            } catch {
                // Wait for the server to finish: throwing out of the group would cancel it mid-shutdown.
                await services.triggerGracefulShutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}
