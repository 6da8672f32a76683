import Foundation
import Logging
import MDRDomain
import PostgresNIO

/// Where a reader of the feed stands: the last event it was given, in the feed's total order (recorded time, tenant,
/// position). Written `<µs since 1970>.<tenant>.<position>` (a tenant id has no dot), e.g. `1796634000123456.acme-bv.42`.
public struct FeedCursor: Hashable, Sendable, CustomStringConvertible {
    public var recordedAtMicros: Int64
    public var tenant: String
    public var position: Int64

    public init(recordedAtMicros: Int64, tenant: String, position: Int64) {
        self.recordedAtMicros = recordedAtMicros
        self.tenant = tenant
        self.position = position
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let micros = Int64(parts[0]), let position = Int64(parts[2]), position >= 0,
            parts[1].isEmpty || TenantID(rawValue: String(parts[1])) != nil
        else { return nil }
        self.init(recordedAtMicros: micros, tenant: String(parts[1]), position: position)
    }

    public var description: String { "\(recordedAtMicros).\(tenant).\(position)" }
}

/// Every tenant's log as one feed a client can leave and resume without gaps or repeats (the live feed of issue 17).
///
/// Positions order one tenant's log; across tenants there is no position. The feed orders events by their recorded
/// time (the start of the transaction that appended them), then tenant, then position, and hands out only events
/// recorded before the **horizon**: the start of the oldest transaction still running in the database. A transaction
/// that has not committed yet started at or after the horizon, so every event it will add sorts after everything handed
/// out: a cursor never skips an event that commits late. A long transaction holds the feed back (never loses it).
public struct EventFeed: Sendable {
    public let database: Database
    let logger: Logger

    /// The event types the feed may carry: what a SOC console or an SLA board follows. It has an index of its own
    /// (migration 0017), partial on these types, so the high-volume events cost it nothing: signals, and the
    /// correlator's `SignalAttached` (one per correlated signal; a console that wants an incident's signals reads it).
    public static let types: [String] = [
        IncidentOpened.eventType, IncidentPriorityRaised.eventType, IncidentConfirmed.eventType,
        IncidentDismissed.eventType, IncidentResolved.eventType, IncidentAbsorbed.eventType, IncidentMerged.eventType,
        IncidentAssigned.eventType, DeviceIsolationRequested.eventType, DeviceIsolated.eventType, DeviceIsolationFailed.eventType,
        DeviceReleaseRequested.eventType, DeviceReleased.eventType, DeviceReleaseFailed.eventType, FileQuarantineRequested.eventType,
        FileQuarantined.eventType, FileQuarantineFailed.eventType, SlaBreached.eventType, NotificationFailed.eventType,
    ]

    public init(database: Database) {
        self.database = database
        self.logger = database.logger
    }

    /// Where a new reader starts: after everything committed now.
    public func start() async throws -> FeedCursor {
        for try await micros in try await database.client.query("SELECT \(unescaped: Self.horizon)", logger: logger).decode(Int64.self) {
            return FeedCursor(recordedAtMicros: micros, tenant: "", position: 0)
        }
        return FeedCursor(recordedAtMicros: 0, tenant: "", position: 0)
    }

    /// The events of `types` (a subset of `EventFeed.types`) after `cursor` and before the horizon, of `tenant` or of
    /// every tenant, in the feed's order, at most `limit`.
    public func read(after cursor: FeedCursor, tenant: TenantID?, types: [String], limit: Int = 500) async throws -> [(FeedCursor, RecordedEvent)] {
        let only = tenant?.rawValue
        let rows = try await database.client.query(
            """
            SELECT \(unescaped: EventStore.columns), (extract(epoch FROM recorded_at) * 1000000)::bigint
            FROM events
            WHERE type IN (\(unescaped: Self.types.map { "'\($0)'" }.joined(separator: ", ")))
              AND type = ANY(\(types)::text[])
              AND (\(only)::text IS NULL OR tenant_id = \(only)::text)
              AND (recorded_at, tenant_id, position)
                  > (timestamptz 'epoch' + \(cursor.recordedAtMicros)::bigint * interval '1 microsecond', \(cursor.tenant)::text, \(cursor.position)::bigint)
              AND recorded_at < timestamptz 'epoch' + (SELECT \(unescaped: Self.horizon)) * interval '1 microsecond'
            ORDER BY recorded_at, tenant_id, position
            LIMIT \(Int64(limit))
            """, logger: logger)
        var events: [(FeedCursor, RecordedEvent)] = []
        let decoder = JSONCoding.decoder()
        for try await row in rows {
            let columns = row.makeRandomAccess()
            let event = try EventStore.decodeEvent(columns, decoder: decoder)
            let micros = try columns[11].decode(Int64.self)
            events.append((FeedCursor(recordedAtMicros: micros, tenant: event.tenant.rawValue, position: event.position), event))
        }
        return events
    }

    /// µs since 1970 of the start of the oldest transaction running in this database, or now.
    static let horizon = """
        (extract(epoch FROM least(now(), (SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'))) * 1000000)::bigint
        """
}
