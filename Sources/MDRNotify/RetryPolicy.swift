import Foundation

/// When to try a delivery again, and when to give up. Pure: the random source is passed in. Two forms:
///
/// - **A schedule** (the default for notifications): after attempt `n` (1-based) wait `schedule[n-1]`, give or take
///   10 % (so that many senders recovering at once do not retry in step); after the last step, give up. The default is
///   Standard Webhooks' schedule, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about 27.6 hours, so a
///   receiver that is down for a night still gets what was sent to it.
/// - **Exponential back-off with full jitter**: the ceiling after attempt `n` is `min(maxDelay, baseDelay · 2^(n-1))`
///   and the delay is drawn uniformly from `0 … ceiling`, up to `maxAttempts` attempts (tests, the demo).
///
/// Either way a server's `Retry-After` raises the delay to at least that value, even above the schedule's step.
public struct RetryPolicy: Hashable, Sendable {
    /// Attempts in all, the first included. At least 1.
    public var maxAttempts: Int
    /// The ceiling after the first attempt (exponential form).
    public var baseDelay: Duration
    /// The largest ceiling, however many attempts were made (exponential form).
    public var maxDelay: Duration
    /// The waits after each attempt (schedule form); nil for exponential back-off.
    public var schedule: [Duration]?

    /// Exponential back-off. `maxAttempts` below 1 counts as 1.
    public init(maxAttempts: Int, baseDelay: Duration, maxDelay: Duration) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.schedule = nil
    }

    /// A schedule: one attempt, then one more after each wait in `schedule`.
    public init(schedule: [Duration]) {
        self.maxAttempts = schedule.count + 1
        self.baseDelay = schedule.first ?? .zero
        self.maxDelay = schedule.max() ?? .zero
        self.schedule = schedule
    }

    /// Standard Webhooks' retry schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    public static let standardWebhooksSchedule: [Duration] = [
        .seconds(5), .seconds(5 * 60), .seconds(30 * 60), .seconds(2 * 3600), .seconds(5 * 3600), .seconds(10 * 3600), .seconds(10 * 3600),
    ]

    /// The default for notifications: Standard Webhooks' schedule, about 27.6 hours of trying before a notification
    /// fails (a customer's delivery that is late is reported to Dynamic long before: see `DeliveryWorker`).
    public static let notifications = RetryPolicy(schedule: standardWebhooksSchedule)

    /// The time from the first attempt to the last, without jitter or `Retry-After` (the schedule's sum, or the
    /// exponential ceilings' sum).
    public var span: Duration {
        (1..<maxAttempts).reduce(Duration.zero) { sum, attempt in sum + (schedule.map { $0[attempt - 1] } ?? ceiling(afterAttempt: attempt)) }
    }

    /// Parses a schedule written as durations joined by commas: `5s,5m,30m,2h` (units s, m, h; at least one step).
    public static func parseSchedule(_ text: String) -> [Duration]? {
        var steps: [Duration] = []
        for part in text.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let unit = trimmed.last, let amount = Int(trimmed.dropLast()), amount > 0, amount <= 7 * 24 * 3600 else { return nil }
            switch unit {
            case "s": steps.append(.seconds(amount))
            case "m": steps.append(.seconds(amount * 60))
            case "h": steps.append(.seconds(amount * 3600))
            default: return nil
            }
        }
        return steps.isEmpty ? nil : steps
    }

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
        guard attempt >= 1, attempt < maxAttempts else { return nil }
        let jittered: Duration
        if let schedule {
            // The step, give or take 10 %.
            let step = Self.nanoseconds(schedule[attempt - 1]), spread = step / 10
            jittered = .nanoseconds(step + (spread > 0 ? Int64.random(in: -spread...spread, using: &generator) : 0))
        } else {
            let ceiling = Self.nanoseconds(ceiling(afterAttempt: attempt))
            jittered = .nanoseconds(ceiling > 0 ? Int64.random(in: 0...ceiling, using: &generator) : 0)
        }
        guard let retryAfter else { return jittered }
        return max(jittered, retryAfter)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : max(0, whole + attoseconds / 1_000_000_000)
    }
}
