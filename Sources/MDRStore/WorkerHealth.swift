import Synchronization

/// The heartbeats of one instance's background loops (the pipeline, the SLA clock, the responder, delivery): when each
/// last completed a round, and how many rounds in a row failed. `RoundLoop` beats it; `/health/ready` and `/metrics`
/// read it, so a loop that stops (a round stuck on a connection the server closed, a database that keeps refusing) is
/// seen instead of silently leaving its work undone.
///
/// Every loop completes rounds while idle too (each poll interval is a round), so a loop whose last round is older than
/// a bound that is well above its poll interval and below its round deadline is stuck or failing, whether or not work
/// is waiting.
public final class WorkerHealth: Sendable {
    public struct Beat: Sendable, Equatable {
        /// The loop's name, as in its log lines ("pipeline", "SLA clock", "responder", "delivery").
        public var worker: String
        /// When the loop started, or last completed a round.
        public var lastRound: ContinuousClock.Instant
        /// True once a round has completed.
        public var completedOnce: Bool
        /// Rounds that failed (or overran their deadline) since the last one that completed (each is logged).
        public var failuresInARow: Int
    }

    private let beats = Mutex<[String: Beat]>([:])
    /// How long a loop may go without completing a round before it counts as stalled: well above every loop's poll
    /// interval (1 s) and back-off (at most 30 s), below the round deadline (300 s).
    public let stallBound: Duration

    public init(stallBound: Duration = .seconds(120)) {
        self.stallBound = stallBound
    }

    /// Starts watching `worker` from `now`.
    public func started(_ worker: String, at now: ContinuousClock.Instant = .now) {
        beats.withLock { $0[worker] = Beat(worker: worker, lastRound: now, completedOnce: false, failuresInARow: 0) }
    }

    public func completedRound(_ worker: String, at now: ContinuousClock.Instant = .now) {
        beats.withLock { $0[worker] = Beat(worker: worker, lastRound: now, completedOnce: true, failuresInARow: 0) }
    }

    public func failedRound(_ worker: String, at now: ContinuousClock.Instant = .now) {
        beats.withLock { beats in
            var beat = beats[worker] ?? Beat(worker: worker, lastRound: now, completedOnce: false, failuresInARow: 0)
            beat.failuresInARow += 1
            beats[worker] = beat
        }
    }

    /// No longer watched (the loop ended: a graceful shutdown).
    public func stopped(_ worker: String) {
        _ = beats.withLock { $0.removeValue(forKey: worker) }
    }

    /// Every watched loop, by name.
    public var all: [Beat] { beats.withLock { $0.values.sorted { $0.worker < $1.worker } } }

    /// The loops that have not completed a round for longer than `stallBound` at `now`.
    public func stalled(at now: ContinuousClock.Instant = .now) -> [Beat] {
        all.filter { now - $0.lastRound > stallBound }
    }
}
