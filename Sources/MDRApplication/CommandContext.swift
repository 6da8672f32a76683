import Crypto
import Foundation
import MDRDomain
import MDRStore

/// Who issues a command, under which command id, and as part of what.
public struct CommandContext: Sendable {
    public var principal: Principal
    /// The command id (HTTP `Idempotency-Key`): a repeat returns the first outcome and appends nothing.
    public var commandID: String?
    /// Ties together everything one request caused (HTTP `X-Correlation-ID`, or the request id).
    public var correlationID: String?

    public init(principal: Principal, commandID: String? = nil, correlationID: String? = nil) {
        self.principal = principal
        self.commandID = commandID
        self.correlationID = correlationID
    }

    var metadata: EventMetadata {
        EventMetadata(principal: principal, commandID: commandID, correlationID: correlationID)
    }
}

/// The result of a command: what it decided, where its events went, and whether it was a repeat.
public struct CommandOutcome<Result: Codable & Sendable>: Sendable {
    public var result: Result
    /// Nil when the command appended nothing (e.g. a batch of duplicates).
    public var firstPosition: Int64?
    public var lastPosition: Int64?
    /// True when the command id was used before: nothing was appended now; this is the first outcome.
    public var repeated: Bool
}

extension DomainError.Code {
    /// The same `Idempotency-Key` was used for a different request.
    public static let idempotencyKeyReused: Self = "idempotency_key_reused"
    /// A concurrent command changed the same aggregate; retrying the request decides again on the new state.
    public static let versionConflict: Self = "version_conflict"
    public static let invalidIdempotencyKey: Self = "invalid_idempotency_key"
}

/// A stable fingerprint of a request (to tell a repeated command from a reused key).
public func requestFingerprint(_ parts: [String]) -> Data {
    var hasher = SHA256()
    for part in parts {
        hasher.update(data: Data("\(part.utf8.count):".utf8))
        hasher.update(data: Data(part.utf8))
    }
    return Data(hasher.finalize())
}

/// A UUID derived from a name (SHA-256 based, RFC 9562 version 8): process managers name the events and
/// incidents they create after the event that caused them, so a replay of the same log gives the same ids.
public func derivedUUID(_ parts: String...) -> UUID {
    var bytes = Array(SHA256.hash(data: Data(parts.joined(separator: "\u{1F}").utf8)).prefix(16))
    bytes[6] = (bytes[6] & 0x0F) | 0x80
    bytes[8] = (bytes[8] & 0x3F) | 0x80
    return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                       bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
}
