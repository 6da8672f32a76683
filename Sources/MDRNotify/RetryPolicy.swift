/// When to try a webhook delivery again: exponential back-off with full jitter, a maximum number of attempts, and a
/// server's `Retry-After` honoured as a floor. Pure: the random source is passed in.
///
/// After attempt `n` (1-based) the ceiling is `min(maxDelay, baseDelay · 2^(n-1))`; the delay is drawn uniformly from
/// `0 … ceiling` ("full jitter", so that many senders recovering at once do not retry in step); a `Retry-After` from
/// the server raises the delay to at least that value, even above `maxDelay`.
public struct RetryPolicy: Hashable, Sendable {
    /// Attempts in all, the first included. At least 1.
    public var maxAttempts: Int
    /// The ceiling after the first attempt.
    public var baseDelay: Duration
    /// The largest ceiling, however many attempts were made.
    public var maxDelay: Duration

    /// A policy. `maxAttempts` below 1 counts as 1.
    public init(maxAttempts: Int, baseDelay: Duration, maxDelay: Duration) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The default for notifications: 10 attempts, from 1 s doubling up to 5 min between attempts (about 15 min of
    /// trying in the worst case before the caller gives up and falls back).
    public static let notifications = RetryPolicy(maxAttempts: 10, baseDelay: .seconds(1), maxDelay: .seconds(300))

    /// The jitter ceiling after attempt `attempt` (1-based).
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let base = Self.nanoseconds(baseDelay), cap = Self.nanoseconds(maxDelay)
        let shift = max(0, attempt - 1)
        // base · 2^shift, saturating at the cap.
        guard shift < 63, base <= cap >> Int64(shift) else { return .nanoseconds(cap) }
        return .nanoseconds(min(cap, base << Int64(shift)))
    }

    /// How long to wait after attempt `attempt` (1-based) failed, or `nil` when it was the last one.
    /// `retryAfter` is the server's requested wait, if it sent one: the delay is never shorter.
    public func delay(
        afterAttempt attempt: Int, retryAfter: Duration? = nil, using generator: inout some RandomNumberGenerator
    ) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        let ceiling = Self.nanoseconds(ceiling(afterAttempt: attempt))
        let jittered = Duration.nanoseconds(ceiling > 0 ? Int64.random(in: 0...ceiling, using: &generator) : 0)
        guard let retryAfter else { return jittered }
        return max(jittered, retryAfter)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : max(0, whole + attoseconds / 1_000_000_000)
    }
}
