import Foundation

/// A token bucket: at most `capacity` calls at once, refilled evenly over `period`.
///
/// Defender allows 100 calls a minute per tenant app; the client refuses locally rather than earn a 429.
/// Pure value: the caller passes the time.
public struct RateLimiter: Sendable, Hashable {
    /// The most calls the bucket holds.
    public let capacity: Double
    /// The time in which an empty bucket refills completely.
    public let period: TimeInterval
    private var tokens: Double
    private var updated: Date?

    /// A full bucket.
    public init(capacity: Int = 100, per period: TimeInterval = 60) {
        self.capacity = Double(capacity)
        self.period = period
        self.tokens = Double(capacity)
    }

    /// Takes one call's token at `now`; returns `nil` when allowed, or how long to wait for the next token.
    public mutating func acquire(at now: Date) -> TimeInterval? {
        refill(at: now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return (1 - tokens) * period / capacity
    }

    private mutating func refill(at now: Date) {
        guard let updated else {
            self.updated = now
            return
        }
        // A clock that goes back adds nothing (and takes nothing).
        guard now > updated else { return }
        tokens = min(capacity, tokens + now.timeIntervalSince(updated) * capacity / period)
        self.updated = now
    }
}
