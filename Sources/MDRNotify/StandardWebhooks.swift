import Crypto
import Foundation

/// A webhook signing secret in the Standard Webhooks form: `whsec_` followed by the base64 of the key bytes.
///
/// The prefix is optional when parsing (receivers often paste the bare base64); it is never part of the key.
public struct WebhookSecret: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The prefix Standard Webhooks puts before the base64 key.
    public static let prefix = "whsec_"

    let bytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: bytes) }

    /// Parses `whsec_<base64>` (or the bare base64). Returns `nil` for invalid base64 or an empty key.
    public init?(_ string: String) {
        let encoded = string.hasPrefix(Self.prefix) ? String(string.dropFirst(Self.prefix.count)) : string
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else { return nil }
        self.bytes = Array(bytes)
    }

    /// Wraps raw key bytes (for example 32 bytes from a secure random source). `nil` when empty.
    public init?(bytes: some Collection<UInt8>) {
        guard !bytes.isEmpty else { return nil }
        self.bytes = Array(bytes)
    }

    /// The `whsec_<base64>` form, to hand to the receiver.
    public var encoded: String {
        Self.prefix + Data(bytes).base64EncodedString()
    }

    /// Never prints the key.
    public var description: String { "WebhookSecret(redacted)" }
    /// Never prints the key.
    public var debugDescription: String { description }
}

/// Why a webhook request was refused by ``StandardWebhooks/verify(id:timestamp:signatures:body:secrets:now:tolerance:)``.
public struct WebhookVerificationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable code for the refusal.
    public enum Code: String, Hashable, Sendable {
        /// `webhook-id`, `webhook-timestamp` or `webhook-signature` is absent or empty.
        case missingHeader = "missing_header"
        /// `webhook-timestamp` is not an integer number of unix seconds.
        case invalidTimestamp = "invalid_timestamp"
        /// The timestamp is further from the receiver's clock than the tolerance (a replay, or a skewed clock).
        case timestampOutOfTolerance = "timestamp_out_of_tolerance"
        /// No `v1` signature in the header matches any of the receiver's secrets.
        case noMatchingSignature = "no_matching_signature"
    }

    /// The stable code.
    public var code: Code
    /// What was wrong and what to check next.
    public var message: String

    /// An error with the given code and message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// Signing and verification per the Standard Webhooks specification (https://www.standardwebhooks.com,
/// github.com/standard-webhooks/standard-webhooks). Pure.
///
/// The signed content is `"{webhook-id}.{webhook-timestamp}.{body}"`; the signature is HMAC-SHA256 with the secret's
/// key, base64-encoded, prefixed with the version `v1,`. During secret rotation the `webhook-signature` header
/// carries several signatures separated by spaces; a receiver accepts the request when any one of them verifies.
public enum StandardWebhooks {
    /// The header with the message id: the same on every retry of one notification (receivers de-duplicate on it).
    public static let idHeader = "webhook-id"
    /// The header with the signing time in unix seconds.
    public static let timestampHeader = "webhook-timestamp"
    /// The header with the space-separated `v1,<base64>` signatures.
    public static let signatureHeader = "webhook-signature"
    /// The default tolerance between the signing time and the receiver's clock, either way.
    public static let defaultTolerance: Duration = .seconds(5 * 60)

    /// One `v1,<base64>` signature of `id.timestamp.body` with `secret`.
    public static func signature(id: String, timestamp: Int64, body: some DataProtocol, secret: WebhookSecret) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: signedContent(id: id, timestamp: timestamp, body: body), using: secret.key)
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The `webhook-signature` header value: one signature per secret, space-separated, in the order given.
    public static func signatureHeaderValue(
        id: String, timestamp: Int64, body: some DataProtocol, secrets: [WebhookSecret]
    ) -> String {
        secrets.map { signature(id: id, timestamp: timestamp, body: body, secret: $0) }.joined(separator: " ")
    }

    /// The three headers to send with `body`, signed at `now`.
    public static func headers(
        id: String, body: some DataProtocol, secrets: [WebhookSecret], now: Date
    ) -> [(name: String, value: String)] {
        let timestamp = Int64(now.timeIntervalSince1970.rounded(.down))
        return [
            (idHeader, id),
            (timestampHeader, String(timestamp)),
            (signatureHeader, signatureHeaderValue(id: id, timestamp: timestamp, body: body, secrets: secrets)),
        ]
    }

    /// Verifies a received request: the timestamp lies within `tolerance` of `now`, and at least one `v1` signature
    /// in `signatures` matches `id.timestamp.body` under one of `secrets` (compared in constant time).
    /// Signatures of other versions are ignored.
    public static func verify(
        id: String?, timestamp: String?, signatures: String?, body: some DataProtocol, secrets: [WebhookSecret],
        now: Date, tolerance: Duration = defaultTolerance
    ) throws(WebhookVerificationError) {
        guard let id, !id.isEmpty, let timestamp, !timestamp.isEmpty, let signatures, !signatures.isEmpty else {
            throw WebhookVerificationError(.missingHeader, "send webhook-id, webhook-timestamp and webhook-signature")
        }
        guard let seconds = Int64(timestamp) else {
            throw WebhookVerificationError(.invalidTimestamp, "webhook-timestamp must be unix seconds, got \(timestamp)")
        }
        let skew = abs(now.timeIntervalSince1970 - Double(seconds))
        let allowed = Double(tolerance.components.seconds) + Double(tolerance.components.attoseconds) / 1e18
        guard skew <= allowed else {
            throw WebhookVerificationError(
                .timestampOutOfTolerance, "webhook-timestamp is \(Int(skew)) s from the receiver's clock; check both clocks")
        }
        let content = signedContent(id: id, timestamp: seconds, body: body)
        for entry in signatures.split(separator: " ", omittingEmptySubsequences: true) {
            guard entry.hasPrefix("v1,"), let mac = Data(base64Encoded: String(entry.dropFirst(3))) else { continue }
            for secret in secrets
            where HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: content, using: secret.key) {
                return
            }
        }
        throw WebhookVerificationError(.noMatchingSignature, "no v1 signature matches a configured secret")
    }

    static func signedContent(id: String, timestamp: Int64, body: some DataProtocol) -> Data {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        return content
    }
}
