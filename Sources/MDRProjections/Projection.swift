import MDRDomain
import MDRStore
import PostgresNIO

/// A read model built from each tenant's log: rows of its own tables, derived from events and nothing else, so they
/// can be dropped and rebuilt at any time and the rebuild gives the same rows.
///
/// The `ProjectionRunner` calls `apply` inside the transaction that moves the projection's checkpoint for the
/// tenant (a compare-and-set on the old position), so every event is applied exactly once into the read model.
/// `apply` must write only its own tables and must not commit, and its rows must depend on the events alone (no
/// clock, no random ids), or a rebuild would differ from the live rows.
public protocol Projection: Sendable {
    /// The checkpoint's name, stable for a running system (`incidents`, `device-isolation`).
    var name: String { get }
    /// The schema version of the rows. Raise it when what `apply` writes changes: a runner that finds rows built
    /// with another version rebuilds them.
    var version: Int { get }
    /// The event types `apply` reads; the runner skips the others (and still moves the checkpoint past them).
    var eventTypes: [String] { get }

    /// Writes the rows for `events` of `tenant` (in position order, all past the checkpoint), set-based where
    /// possible, on `connection` inside the runner's transaction.
    func apply(_ events: [RecordedEvent], tenant: TenantID, on connection: PostgresConnection) async throws
    /// Removes all of the projection's rows, of all tenants (the runner removes the checkpoints).
    func reset(on connection: PostgresConnection) async throws
}

/// A refusal of the projection runner, with a stable code.
public struct ProjectionError: Error, Equatable, CustomStringConvertible {
    /// Stable codes.
    public enum Code: String, Sendable {
        /// The checkpoint moved since it was read: another runner applied the events; nothing was written.
        case staleCheckpoint = "stale_checkpoint"
        /// No projection of that name is known.
        case unknownProjection = "unknown_projection"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// How far a projection is behind one tenant's log.
public struct ProjectionLag: Sendable, Equatable, Codable {
    public var projection: String
    public var tenant: TenantID
    /// The tenant's last position.
    public var head: Int64
    /// The last position the projection applied.
    public var checkpoint: Int64
    /// `head - checkpoint`.
    public var eventsBehind: Int64 { head - checkpoint }
    /// How long the oldest event not yet applied has been in the log (0 when caught up), in seconds.
    public var secondsBehind: Double

    public init(projection: String, tenant: TenantID, head: Int64, checkpoint: Int64, secondsBehind: Double) {
        self.projection = projection
        self.tenant = tenant
        self.head = head
        self.checkpoint = checkpoint
        self.secondsBehind = secondsBehind
    }
}
