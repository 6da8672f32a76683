import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One notification to deliver by webhook: its id (the caller's, stable across retries), the JSON body and the
/// endpoint's current secrets (more than one during rotation).
public struct WebhookNotification: Sendable, Hashable {
    /// Sent as `webhook-id` on every attempt, so the receiver can de-duplicate.
    public var id: String
    /// The JSON body, sent as is and signed byte for byte.
    public var body: Data
    /// The endpoint's secrets; each yields one signature in `webhook-signature`.
    public var secrets: [WebhookSecret]

    /// A notification to deliver.
    public init(id: String, body: Data, secrets: [WebhookSecret]) {
        self.id = id
        self.body = body
        self.secrets = secrets
    }
}

/// How one delivery attempt ended.
public enum WebhookOutcome: Hashable, Sendable {
    /// The endpoint answered 2xx. Nothing else counts as delivered (not 1xx, not 3xx).
    case delivered
    /// The endpoint answered 410 Gone: disable it and stop trying; it will not come back by itself.
    case disabled
    /// The endpoint answered 429 or 503 with a usable `Retry-After`: try again, not before this long.
    case retryAfter(Duration)
    /// Anything else: another status, a timeout, an unreachable endpoint. Try again per the retry policy.
    case failed(WebhookFailure)

    /// Whether the notification is settled (delivered, or the endpoint is gone) and needs no further attempt.
    public var isFinal: Bool {
        switch self {
        case .delivered, .disabled: true
        case .retryAfter, .failed: false
        }
    }
}

/// Why an attempt failed.
public enum WebhookFailure: Hashable, Sendable, CustomStringConvertible {
    /// The endpoint answered with this status (not 2xx, not 410, and not 429/503 with a `Retry-After`).
    case status(Int)
    /// No complete answer within the channel's timeout.
    case timeout
    /// No connection, or it broke: refused, reset, DNS, TLS. The text is the client's error, for the audit trail.
    case unreachable(String)

    public var description: String {
        switch self {
        case .status(let code): "HTTP \(code)"
        case .timeout: "timeout"
        case .unreachable(let error): "unreachable: \(error)"
        }
    }
}

/// The webhook channel: POSTs a notification signed per Standard Webhooks and classifies the answer.
///
/// One attempt per ``deliver(_:to:)`` call; ``deliver(_:to:policy:generator:sleep:)`` retries in-process with a
/// ``RetryPolicy``. The `webhook-id` is the notification's own id on every attempt; the timestamp and signatures are
/// made afresh for each attempt (a receiver's tolerance window would refuse a stale one).
public struct WebhookChannel: Sendable {
    /// The HTTP client. The caller owns its lifecycle; a client that does not follow redirects is advisable.
    public var client: HTTPClient
    /// How long one attempt may take in all: connecting, sending, and reading the answer.
    public var timeout: Duration
    /// The clock for signing timestamps and HTTP-date `Retry-After` values.
    public var now: @Sendable () -> Date

    /// A channel over `client` with a per-attempt `timeout`.
    public init(client: HTTPClient = .shared, timeout: Duration = .seconds(10), now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.timeout = timeout
        self.now = now
    }

    /// Makes one attempt to deliver `notification` to `url` and classifies the outcome. Never throws: every failure
    /// is an outcome (a cancelled task yields `.failed(.unreachable)`).
    public func deliver(_ notification: WebhookNotification, to url: String) async -> WebhookOutcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        for header in StandardWebhooks.headers(id: notification.id, body: notification.body, secrets: notification.secrets, now: now()) {
            request.headers.add(name: header.name, value: header.value)
        }
        request.body = .bytes(ByteBuffer(bytes: notification.body))
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(RetryPolicy.nanoseconds(timeout)))
            // Drain a little of the answer so the connection can be reused; its content does not matter.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return Self.classify(status: Int(response.status.code), retryAfter: response.headers.first(name: "retry-after"), now: now())
        } catch let error as HTTPClientError
            where [.deadlineExceeded, .readTimeout, .connectTimeout, .getConnectionFromPoolTimeout].contains(error) {
            return .failed(.timeout)
        } catch {
            return .failed(.unreachable(String(describing: error)))
        }
    }

    /// Delivers with retries: attempts until the outcome is final or `policy` has no attempts left, sleeping between
    /// attempts with `sleep` (injectable, so tests need not wait). Returns the last outcome and the number of attempts.
    public func deliver(
        _ notification: WebhookNotification, to url: String, policy: RetryPolicy,
        generator: inout some RandomNumberGenerator,
        sleep: (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) async throws -> (outcome: WebhookOutcome, attempts: Int) {
        var attempt = 0
        while true {
            attempt += 1
            let outcome = await deliver(notification, to: url)
            let retryAfter: Duration?
            switch outcome {
            case .delivered, .disabled: return (outcome, attempt)
            case .retryAfter(let wait): retryAfter = wait
            case .failed: retryAfter = nil
            }
            guard let delay = policy.delay(afterAttempt: attempt, retryAfter: retryAfter, using: &generator) else {
                return (outcome, attempt)
            }
            try await sleep(delay)
        }
    }

    /// Classifies an HTTP answer. Pure: 2xx → delivered; 410 → disabled; 429/503 with a `Retry-After` in seconds or
    /// as an HTTP-date → retryAfter (a date in the past means at once); everything else → failed.
    public static func classify(status: Int, retryAfter: String?, now: Date) -> WebhookOutcome {
        switch status {
        case 200..<300: return .delivered
        case 410: return .disabled
        case 429, 503:
            if let retryAfter, let wait = parseRetryAfter(retryAfter, now: now) { return .retryAfter(wait) }
            return .failed(.status(status))
        default: return .failed(.status(status))
        }
    }

    /// Parses a `Retry-After` value (RFC 9110 §10.2.3): a non-negative number of seconds, or an HTTP-date
    /// (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`). `nil` when it is neither.
    public static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int64(trimmed) { return seconds >= 0 ? .seconds(seconds) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let interval = date.timeIntervalSince(now)
        return interval > 0 ? .seconds(Int64(interval.rounded(.up))) : .zero
    }
}
