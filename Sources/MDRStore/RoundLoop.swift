import Logging
import ServiceLifecycle

extension AppendSignal {
    /// The loop of every background worker that works in rounds: run a round; if it did something, run another at
    /// once; otherwise wait for a wake-up on this signal (or `pollInterval`, the polling fallback). A failed round is
    /// logged and retried after the wait. Returns on graceful shutdown or cancellation.
    ///
    /// The generation is read before the round, so a wake-up that arrives during the round is not lost.
    public func repeatRounds(pollInterval: Duration, logger: Logger, what: String, _ round: @escaping @Sendable () async throws -> Int) async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let generation = self.generation
                do {
                    if try await round() > 0 { continue }
                } catch {
                    if Task.isCancelled { return }
                    logger.error("\(what) round failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                }
                await self.wait(after: generation, timeout: pollInterval)
            }
        }
    }
}
