import Foundation
import MDRDomain

/// What a stream must be at when an append commits.
public enum ExpectedVersion: Sendable, Hashable {
    /// No check.
    case any
    /// The stream must not exist yet.
    case noStream
    /// The stream must be at exactly this version (its last event's version; streams start at 1).
    case exactly(Int64)

    var rawValue: Int64 {
        switch self {
        case .any: -1
        case .noStream: 0
        case .exactly(let n): n
        }
    }

    /// The expectation that matches a stream read at `version` (0 when it had no events).
    public static func at(_ version: Int64) -> ExpectedVersion { version == 0 ? .noStream : .exactly(version) }
}

/// Who caused an event, on whose behalf and why. Stored with every event and covered by its hash.
public struct EventMetadata: Codable, Sendable, Hashable {
    /// The principal's id (a token id, a user's subject, or `system:<process>`).
    public var actor: String
    public var actorName: String
    public var role: String
    /// The command (HTTP `Idempotency-Key`) that appended the event.
    public var commandID: String?
    /// Ties together everything one request or one attack caused.
    public var correlationID: String?
    /// The event that caused this one (for process managers).
    public var causationID: String?

    public init(actor: String, actorName: String, role: String, commandID: String? = nil, correlationID: String? = nil, causationID: String? = nil) {
        self.actor = actor
        self.actorName = actorName
        self.role = role
        self.commandID = commandID
        self.correlationID = correlationID
        self.causationID = causationID
    }

    public init(principal: Principal, commandID: String? = nil, correlationID: String? = nil, causationID: String? = nil) {
        self.init(
            actor: principal.id, actorName: principal.name, role: principal.role.rawValue, commandID: commandID,
            correlationID: correlationID, causationID: causationID)
    }
}

/// An event to append: encoded by the caller before the store takes any lock.
public struct EventToAppend: Sendable {
    public var stream: StreamName
    public var eventID: UUID
    public var type: String
    public var schemaVersion: Int
    /// The payload as JSON text.
    public var data: String
    public var metadata: EventMetadata

    public init(stream: StreamName, eventID: UUID = UUID(), type: String, schemaVersion: Int = 1, data: String, metadata: EventMetadata) {
        self.stream = stream
        self.eventID = eventID
        self.type = type
        self.schemaVersion = schemaVersion
        self.data = data
        self.metadata = metadata
    }

    /// Encodes a domain event for its own stream.
    public init(_ event: DomainEvent, stream: StreamName? = nil, eventID: UUID = UUID(), metadata: EventMetadata) {
        self.init(
            stream: stream ?? event.stream, eventID: eventID, type: event.type, schemaVersion: event.schemaVersion,
            data: String(decoding: EventCodec.encode(event), as: UTF8.self), metadata: metadata)
    }
}

/// An event as stored in a tenant's log.
public struct RecordedEvent: Sendable, Hashable {
    public var tenant: TenantID
    /// The event's place in its tenant's log: 1, 2, 3, … without gaps, in commit order.
    public var position: Int64
    public var stream: StreamName
    /// The event's place in its stream: 1, 2, 3, …
    public var version: Int64
    public var eventID: UUID
    public var type: String
    public var schemaVersion: Int
    /// The payload as PostgreSQL stores it (jsonb text form).
    public var data: String
    public var metadata: EventMetadata
    public var recordedAt: Date
    /// SHA-256 over the previous event's hash and this event's canonical form.
    public var hash: Data

    public init(
        tenant: TenantID, position: Int64, stream: StreamName, version: Int64, eventID: UUID, type: String, schemaVersion: Int,
        data: String, metadata: EventMetadata, recordedAt: Date, hash: Data
    ) {
        self.tenant = tenant
        self.position = position
        self.stream = stream
        self.version = version
        self.eventID = eventID
        self.type = type
        self.schemaVersion = schemaVersion
        self.data = data
        self.metadata = metadata
        self.recordedAt = recordedAt
        self.hash = hash
    }

    /// The domain event; throws for a type this build does not know.
    public func decoded() throws -> DomainEvent {
        EventDecodeCounter.countOne()
        return try EventCodec.decode(type: type, schemaVersion: schemaVersion, data: Data(data.utf8))
    }
}

/// A command's idempotency record: stored in the transaction that appends its events.
public struct CommandRecord: Sendable {
    /// The command id (HTTP `Idempotency-Key`), unique per tenant.
    public var id: String
    /// A fingerprint of the request, to refuse the same key used for a different request.
    public var requestHash: Data?
    /// The outcome to hand back when the command is repeated (JSON).
    public var result: Data

    public init(id: String, requestHash: Data?, result: Data) {
        self.id = id
        self.requestHash = requestHash
        self.result = result
    }
}

/// A command recorded earlier.
public struct StoredCommand: Sendable, Equatable {
    public var id: String
    public var requestHash: Data?
    public var result: Data
    public var firstPosition: Int64?
    public var lastPosition: Int64?
    public var recordedAt: Date
}

/// Where an append put its events.
public struct AppendResult: Sendable, Equatable {
    /// The first and last positions; `first > last` when the command appended no events.
    public var firstPosition: Int64
    public var lastPosition: Int64
    public var recordedAt: Date
    public var count: Int { Int(max(0, lastPosition - firstPosition + 1)) }
}

/// The outcome of an append under a command id.
public enum AppendOutcome: Sendable {
    case appended(AppendResult)
    /// The command id was used before: nothing was appended; here is the first outcome.
    case repeated(StoredCommand)
}

/// Failures of the store that callers act on.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// A stream was not at the expected version: re-read and decide again, or report HTTP 409.
    case versionConflict(stream: String, expected: Int64, actual: Int64)
    /// An event id was appended before in this tenant (a process manager's effect replayed).
    case duplicateEvent
    /// The event log refused a change (it is append-only).
    case appendOnly

    public var description: String {
        switch self {
        case .versionConflict(let stream, let expected, let actual):
            "version conflict on stream \(stream): expected \(expected), found \(actual)"
        case .duplicateEvent: "an event with this id is already in the log"
        case .appendOnly: "the event log is append-only"
        }
    }
}
