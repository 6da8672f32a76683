import Foundation
import Logging
import MDRDomain
import PostgresNIO

/// How far a consumer of the pipeline is behind one tenant's log, and whether it is parked on an event it fails on.
public struct ConsumerLag: Sendable, Equatable, Codable {
    /// The consumer's name (a view's, or a process manager's).
    public var consumer: String
    public var tenant: TenantID
    /// The tenant's last position.
    public var head: Int64
    /// The last position the consumer handled.
    public var checkpoint: Int64
    /// `head - checkpoint`.
    public var eventsBehind: Int64 { head - checkpoint }
    /// How long the oldest event not yet handled has been in the log (0 when caught up), in seconds.
    public var secondsBehind: Double
    /// When the consumer failed on this tenant's log: failures in a row, the event it fails on, the last error and
    /// when it is tried again. `failures` is 0 for a consumer that works.
    public var failures: Int
    public var failingPosition: Int64?
    public var lastError: String?
    public var retryAt: Date?

    /// Parked: it failed, and waits for its next try while the other consumers go on.
    public var isParked: Bool { failures > 0 }

    public init(
        consumer: String, tenant: TenantID, head: Int64, checkpoint: Int64, secondsBehind: Double, failures: Int = 0,
        failingPosition: Int64? = nil, lastError: String? = nil, retryAt: Date? = nil
    ) {
        self.consumer = consumer
        self.tenant = tenant
        self.head = head
        self.checkpoint = checkpoint
        self.secondsBehind = secondsBehind
        self.failures = failures
        self.failingPosition = failingPosition
        self.lastError = lastError
        self.retryAt = retryAt
    }

    /// How far `consumers` are behind each tenant's log (every tenant with events, caught up or not); `tenants` limits
    /// the answer (nil: all).
    public static func of(_ consumers: [String], database: Database, tenants: [TenantID]? = nil, logger: Logger) async throws -> [ConsumerLag] {
        let scope = tenants?.map(\.rawValue)
        let rows = try await database.client.query(
            """
            SELECT n.name, h.tenant_id, h.last_position, coalesce(c.position, 0),
                   coalesce(extract(epoch FROM now() - (
                       SELECT e.recorded_at FROM events e WHERE e.tenant_id = h.tenant_id AND e.position = coalesce(c.position, 0) + 1
                   ))::float8, 0),
                   coalesce(c.failures, 0), c.failing_position, c.last_error, c.retry_at
            FROM unnest(\(consumers)::text[]) AS n(name)
            CROSS JOIN tenant_heads h
            LEFT JOIN consumer_checkpoints c ON c.tenant_id = h.tenant_id AND c.consumer = n.name
            WHERE \(scope)::text[] IS NULL OR h.tenant_id = ANY(\(scope)::text[])
            ORDER BY n.name, h.tenant_id
            """, logger: logger)
        var lags: [ConsumerLag] = []
        for try await (name, tenant, head, checkpoint, seconds, failures, failing, error, retryAt) in rows.decode(
            (String, String, Int64, Int64, Double, Int32, Int64?, String?, Date?).self)
        {
            guard let id = TenantID(rawValue: tenant) else { continue }
            lags.append(
                ConsumerLag(
                    consumer: name, tenant: id, head: head, checkpoint: checkpoint, secondsBehind: max(0, seconds), failures: Int(failures),
                    failingPosition: failing, lastError: error, retryAt: retryAt))
        }
        return lags
    }
}

/// A refusal of the pipeline, with a stable code.
public struct PipelineError: Error, Equatable, CustomStringConvertible {
    /// Stable codes.
    public enum Code: String, Sendable {
        /// A position moved since it was read: another instance handled these events; nothing was written.
        case staleCheckpoint = "stale_checkpoint"
        /// No consumer (view) of that name is known.
        case unknownConsumer = "unknown_projection"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
