import Foundation
import Logging
import ServiceLifecycle

/// What one round of a background worker found.
public struct RoundOutcome: Sendable, Equatable {
    /// More work is waiting: start the next round at once.
    public var more: Bool
    /// The latest moment for the next round when nothing wakes the worker (a deadline, a retry): used when it is
    /// sooner than the poll interval.
    public var nextDue: Duration?

    public init(more: Bool, nextDue: Duration? = nil) {
        self.more = more
        self.nextDue = nextDue
    }

    public static let idle = RoundOutcome(more: false)
    public static let busy = RoundOutcome(more: true)
}

/// The one loop of every background worker that works in rounds (the pipeline, the SLA clock, the delivery and
/// response workers): run a round; if it found more work, run another at once; otherwise wait for a wake-up, the
/// round's next due time or the poll interval (the polling fallback), whichever comes first.
///
/// Every round runs under a deadline (`roundTimeout`): a query on a connection the server closed can wait for ever
/// (see `withDeadline`), and a worker must never stall silently. A failed or overrun round is logged and retried after
/// a back-off that doubles with each failure in a row (from the poll interval up to `maximumBackoff`), so a database
/// that is down is not hammered and a recovered one is picked up again. The generation is read before the round, so a
/// wake-up that arrives during the round is not lost. Each completed or failed round beats `health`, which readiness and
/// `/metrics` read. Returns on graceful shutdown or cancellation.
public enum RoundLoop {
    public static func run(
        wakeup: Wakeup, pollInterval: Duration, maximumBackoff: Duration = .seconds(30), roundTimeout: Duration = .seconds(300),
        health: WorkerHealth? = nil, logger: Logger, what: String, _ round: @escaping @Sendable () async throws -> RoundOutcome
    ) async {
        health?.started(what)
        defer { health?.stopped(what) }
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                let generation = wakeup.generation
                var wait = pollInterval
                do {
                    let outcome = try await withDeadline(roundTimeout, round)
                    health?.completedRound(what)
                    if failures > 0 { logger.notice("\(what) works again after \(failures) failed round(s)") }
                    failures = 0
                    if outcome.more { continue }
                    if let due = outcome.nextDue { wait = max(.zero, min(wait, due)) }
                } catch {
                    if Task.isCancelled { return }
                    failures += 1
                    health?.failedRound(what)
                    wait = backoff(after: failures, base: pollInterval, maximum: maximumBackoff)
                    logger.error(
                        "\(what) round failed; retrying",
                        metadata: ["error": "\(String(reflecting: error))", "failures": "\(failures)", "retryIn": "\(wait)"])
                }
                await wakeup.wait(after: generation, timeout: wait)
            }
        }
    }

    /// `base` doubled per failure after the first, at most `maximum`.
    public static func backoff(after failures: Int, base: Duration, maximum: Duration) -> Duration {
        var wait = base
        for _ in 1..<max(1, failures) {
            wait = wait * 2
            if wait >= maximum { return maximum }
        }
        return min(wait, maximum)
    }
}
