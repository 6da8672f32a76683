import Foundation

/// A failure talking to an EDR vendor, with a stable `code` and a message that says what to do.
///
/// Descriptions never contain secrets: credentials are never put into `message`.
public struct EDRError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, opaque error code.
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        /// The wire form, e.g. `edr_unauthorized`.
        public let rawValue: String
        /// Wraps a wire form.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Wraps a wire form.
        public init(stringLiteral value: String) { self.rawValue = value }
        /// The wire form.
        public var description: String { rawValue }

        /// The token endpoint refused the credentials, or the API refused a fresh token.
        public static let unauthorized: Self = "edr_unauthorized"
        /// The app registration lacks a permission (e.g. `Machine.Isolate`).
        public static let forbidden: Self = "edr_forbidden"
        /// Too many calls: the vendor answered 429, or the local limiter (100 calls a minute) refused.
        public static let rateLimited: Self = "edr_rate_limited"
        /// The vendor does not know this machine.
        public static let machineNotFound: Self = "edr_machine_not_found"
        /// The vendor does not know this action.
        public static let actionNotFound: Self = "edr_action_not_found"
        /// The vendor refused the request as invalid (400 other than "already in progress").
        public static let badRequest: Self = "edr_bad_request"
        /// The vendor failed (5xx) or could not be reached.
        public static let unavailable: Self = "edr_unavailable"
        /// The vendor did not answer within the configured timeout.
        public static let timeout: Self = "edr_timeout"
        /// The vendor answered something this client cannot read.
        public static let invalidResponse: Self = "edr_invalid_response"
    }

    /// The stable code.
    public var code: Code
    /// What happened and what to do next.
    public var message: String
    /// The HTTP status, when the vendor answered.
    public var httpStatus: Int?
    /// How long the vendor (or the local limiter) asked to wait, when known.
    public var retryAfter: Duration?

    /// Makes an error.
    public init(code: Code, message: String, httpStatus: Int? = nil, retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    /// Whether trying again later may succeed.
    public var isTransient: Bool {
        code == .rateLimited || code == .unavailable || code == .timeout
    }
}
