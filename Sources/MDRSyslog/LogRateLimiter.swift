import Synchronization

/// Lets at most `limit` log entries of one kind through per `window`; counts the rest, so the next entry let through
/// can say how many were left out. Keeps a flood of bad or unknown messages from flooding the log too.
final class LogRateLimiter: Sendable {
    struct State {
        var windowStart: ContinuousClock.Instant
        var logged = 0
        var suppressed = 0
    }

    let limit: Int
    let window: Duration
    let state: Mutex<State>

    init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = window
        self.state = Mutex(State(windowStart: .now))
    }

    /// Whether to log now; when yes, also how many entries were left out since the last one logged.
    func permit(now: ContinuousClock.Instant = .now) -> (allowed: Bool, suppressed: Int) {
        state.withLock { s in
            if now - s.windowStart >= window {
                s.windowStart = now
                s.logged = 0
            }
            guard s.logged < limit else {
                s.suppressed += 1
                return (false, 0)
            }
            s.logged += 1
            defer { s.suppressed = 0 }
            return (true, s.suppressed)
        }
    }
}
