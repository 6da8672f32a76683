import Foundation
import Logging
import MDRDomain
import PostgresNIO

/// One notification to deliver on one route: what the notifier writes and a delivery worker claims.
public struct OutboxEntry: Sendable, Hashable {
    /// `ntf_…`, derived from the cause and the route: also the `webhook-id` of every attempt.
    public var notificationID: String
    public var tenant: TenantID
    /// The log position of the event the notification is about.
    public var causePosition: Int64
    public var about: NotificationAbout
    /// Webhook or e-mail (phone routes become call requests to Dynamic before they get here).
    public var route: NotificationRouteRecord
    /// The body as it will be sent.
    public var payload: Data
    public var occurredAt: Date
    /// Not before this instant.
    public var sendAt: Date
    /// For a resend of an unacknowledged P1: the first notification, and which resend this is (1, 2, …).
    public var resendOf: String?
    public var resendNumber: Int

    public init(
        notificationID: String, tenant: TenantID, causePosition: Int64, about: NotificationAbout, route: NotificationRouteRecord, payload: Data,
        occurredAt: Date, sendAt: Date, resendOf: String? = nil, resendNumber: Int = 0
    ) {
        self.notificationID = notificationID
        self.tenant = tenant
        self.causePosition = causePosition
        self.about = about
        self.route = route
        self.payload = payload
        self.occurredAt = occurredAt
        self.sendAt = sendAt
        self.resendOf = resendOf
        self.resendNumber = resendNumber
    }
}

/// An outbox entry a worker holds: the entry, the attempts made so far, and the claim's token.
public struct ClaimedNotification: Sendable, Hashable {
    public var entry: OutboxEntry
    public var attempts: Int
    public var leaseToken: UUID
}

/// Where a notification stands, for the API.
public struct NotificationStatus: Sendable, Hashable {
    public enum State: String, Sendable {
        case pending, delivered, failed
    }

    public var entry: OutboxEntry
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastError: String?
    public var deliveredAt: Date?
    public var failedAt: Date?
    public var acknowledgedAt: Date?
    public var acknowledgedBy: String?
}

/// How a claimed entry's attempt ended, to be written back.
public enum OutboxSettlement: Sendable, Hashable {
    case delivered(at: Date)
    case retry(at: Date, error: String)
    case failed(at: Date, error: String)
}

/// The `notification_outbox` and `webhook_endpoints` tables (migration 0005).
public struct NotificationOutbox: Sendable {
    public let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger = Logger(label: "mdr.outbox")) {
        self.database = database
        self.logger = logger
    }

    /// The outbox as a queue worked on under leases.
    public var queue: LeasedQueue { LeasedQueue(table: "notification_outbox", key: ["notification_id"], database: database) }

    static let columns = """
        notification_id, tenant_id, cause_position, subject, incident_id, device_id, priority, recipient, channel, address, payload,
        occurred_at, send_at, resend_of, resend_number
        """

    // MARK: Writing (the notifier)

    /// Inserts entries; an entry whose id exists is skipped (a replay inserts nothing twice).
    public func insert(_ entries: [OutboxEntry], on connection: PostgresConnection) async throws {
        guard !entries.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO notification_outbox (\(unescaped: Self.columns), next_attempt_at)
            SELECT id, tenant, cause, subject, nullif(incident, '')::uuid, nullif(device, ''), nullif(priority, ''), recipient, channel,
                   address, payload, occurred, send_at, nullif(resend_of, ''), resend_number, send_at
            FROM unnest(\(entries.map(\.notificationID))::text[], \(entries.map(\.tenant.rawValue))::text[],
                        \(entries.map(\.causePosition))::bigint[], \(entries.map(\.about.type))::text[],
                        \(entries.map { $0.about.incidentID?.description ?? "" })::text[], \(entries.map { $0.about.deviceID?.rawValue ?? "" })::text[],
                        \(entries.map { $0.about.priority?.rawValue ?? "" })::text[], \(entries.map(\.route.recipient.rawValue))::text[],
                        \(entries.map(\.route.channel.rawValue))::text[], \(entries.map(\.route.address))::text[], \(entries.map { String(decoding: $0.payload, as: UTF8.self) })::text[],
                        \(entries.map(\.occurredAt))::timestamptz[], \(entries.map(\.sendAt))::timestamptz[],
                        \(entries.map { $0.resendOf ?? "" })::text[], \(entries.map(\.resendNumber))::integer[])
                 AS u(id, tenant, cause, subject, incident, device, priority, recipient, channel, address, payload, occurred, send_at,
                      resend_of, resend_number)
            ON CONFLICT (notification_id) DO NOTHING
            """, logger: logger)
    }

    /// Marks a notification acknowledged, with every resend of it (and the one it repeats): resending stops.
    public func acknowledge(_ notificationID: String, tenant: TenantID, by principal: String, at: Date, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            WITH root AS (
                SELECT coalesce(resend_of, notification_id) AS id FROM notification_outbox
                WHERE notification_id = \(notificationID) AND tenant_id = \(tenant.rawValue)
            )
            UPDATE notification_outbox o SET acknowledged_at = coalesce(o.acknowledged_at, \(at)), acknowledged_by = coalesce(o.acknowledged_by, \(principal))
            FROM root WHERE o.tenant_id = \(tenant.rawValue) AND (o.notification_id = root.id OR o.resend_of = root.id)
            """, logger: logger)
    }

    // MARK: Delivering (the workers)

    /// Claims up to `limit` due entries for `lease`: pending, due by `now`, and not held by another worker's live claim.
    public func claimDue(now: Date, limit: Int, lease: Duration) async throws -> [ClaimedNotification] {
        let (granted, rows) = try await queue.claim(
            due: "c.status = 'pending' AND c.next_attempt_at <= $3", order: "c.next_attempt_at", limit: limit, lease: lease, now: now,
            returning: Self.columns.split(separator: ",").map { "q." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")
                + ", q.attempts")
        var claimed: [ClaimedNotification] = []
        for try await row in rows {
            let (entry, cells) = try Self.entry(row)
            claimed.append(ClaimedNotification(entry: entry, attempts: try cells[15].decode(Int.self), leaseToken: granted.token))
        }
        return claimed.sorted { $0.entry.sendAt < $1.entry.sendAt }
    }

    /// Writes an attempt's outcome back, if the claim is still the worker's. Returns whether it was (a worker whose
    /// lease ran out must not record the attempt: another worker owns the entry now).
    public func settle(
        _ notificationID: String, leaseToken: UUID, attempts: Int, _ settlement: OutboxSettlement, on connection: PostgresConnection
    ) async throws -> Bool {
        try await settle([(notificationID, leaseToken, attempts, settlement)], on: connection).contains(notificationID)
    }

    /// Writes several attempts' outcomes back in one statement; returns the ids whose claim was still the worker's.
    public func settle(_ outcomes: [(id: String, leaseToken: UUID, attempts: Int, settlement: OutboxSettlement)], on connection: PostgresConnection)
        async throws -> Set<String>
    {
        guard !outcomes.isEmpty else { return [] }
        var ids: [String] = [], tokens: [UUID] = [], attempts: [Int] = [], statuses: [String] = [], errors: [String] = []
        var nexts: [Date] = [], delivered: [Date] = [], failed: [Date] = []
        let never = Date(timeIntervalSince1970: 0)
        for outcome in outcomes {
            ids.append(outcome.id)
            tokens.append(outcome.leaseToken)
            attempts.append(outcome.attempts)
            switch outcome.settlement {
            case .delivered(let at):
                statuses.append("delivered"); nexts.append(never); errors.append(""); delivered.append(at); failed.append(never)
            case .retry(let at, let reason):
                statuses.append("pending"); nexts.append(at); errors.append(reason); delivered.append(never); failed.append(never)
            case .failed(let at, let reason):
                statuses.append("failed"); nexts.append(never); errors.append(reason); delivered.append(never); failed.append(at)
            }
        }
        let rows = try await connection.query(
            """
            UPDATE notification_outbox o SET status = u.status, attempts = u.attempts,
                next_attempt_at = CASE WHEN u.status = 'pending' THEN u.next ELSE o.next_attempt_at END,
                last_error = coalesce(nullif(u.error, ''), o.last_error),
                delivered_at = CASE WHEN u.status = 'delivered' THEN u.delivered END,
                failed_at = CASE WHEN u.status = 'failed' THEN u.failed END,
                lease_token = NULL, lease_until = NULL
            FROM unnest(\(ids)::text[], \(tokens)::uuid[], \(attempts)::integer[], \(statuses)::text[], \(nexts)::timestamptz[],
                        \(errors)::text[], \(delivered)::timestamptz[], \(failed)::timestamptz[])
                 AS u(id, token, attempts, status, next, error, delivered, failed)
            WHERE o.notification_id = u.id AND o.lease_token = u.token
            RETURNING o.notification_id
            """, logger: logger)
        var settled: Set<String> = []
        for try await id in rows.decode(String.self) { settled.insert(id) }
        return settled
    }

    /// Claims delivered, unacknowledged P1 confirmations whose last sending is older than `after` and that have been
    /// resent fewer than `maxResends` times, marks them resent and returns them; the caller inserts the resends on the
    /// same connection (one transaction).
    public func claimDueResends(now: Date, after: Duration, maxResends: Int, limit: Int, on connection: PostgresConnection) async throws
        -> [OutboxEntry]
    {
        let before = now.addingTimeInterval(-Double(after.components.seconds))
        let rows = try await connection.query(
            """
            UPDATE notification_outbox o SET resent_at = \(now)
            WHERE o.notification_id IN (
                SELECT notification_id FROM notification_outbox
                WHERE status = 'delivered' AND acknowledged_at IS NULL AND resent_at IS NULL AND subject = 'incident.confirmed'
                  AND priority = 'P1' AND delivered_at <= \(before) AND resend_number < \(maxResends)
                ORDER BY delivered_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING \(unescaped: Self.columns.split(separator: ",").map { "o." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", "))
            """, logger: logger)
        var entries: [OutboxEntry] = []
        for try await row in rows { entries.append(try Self.entry(row).0) }
        return entries
    }

    // MARK: Reading (the API)

    /// Totals for monitoring: entries pending and failed, how long the oldest due entry has waited (seconds), and how
    /// long ago the oldest undelivered P1 notice was due (seconds; retries included).
    public func statistics(now: Date) async throws -> (pending: Int, failed: Int, oldestDueSeconds: Double, oldestUndeliveredP1Seconds: Double) {
        let rows = try await database.client.query(
            """
            SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'failed'),
                   coalesce(extract(epoch FROM \(now) - min(next_attempt_at) FILTER (WHERE status = 'pending' AND next_attempt_at <= \(now))), 0)::float8,
                   coalesce(extract(epoch FROM \(now) - min(send_at) FILTER (WHERE status = 'pending' AND priority = 'P1' AND send_at <= \(now))), 0)::float8
            FROM notification_outbox
            """, logger: logger)
        for try await (pending, failed, oldest, p1) in rows.decode((Int, Int, Double, Double).self) { return (pending, failed, oldest, p1) }
        return (0, 0, 0, 0)
    }


    /// Deliveries of the hour before `now`, per channel: how many, the attempts they took, and the latency from when
    /// each was due (`send_at`) to its delivery, p50 and p99 in seconds. Across instances: it reads the outbox.
    public func deliveryLatency(now: Date) async throws -> [(channel: String, delivered: Int, attempts: Int, p50: Double, p99: Double)] {
        let rows = try await database.client.query(
            """
            SELECT channel, count(*)::int8, coalesce(sum(attempts), 0)::int8,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - send_at))::float8,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - send_at))::float8
            FROM notification_outbox
            WHERE status = 'delivered' AND delivered_at > \(now.addingTimeInterval(-3600)) AND delivered_at <= \(now)
            GROUP BY channel ORDER BY channel
            """, logger: logger)
        var result: [(String, Int, Int, Double, Double)] = []
        for try await (channel, delivered, attempts, p50, p99) in rows.decode((String, Int64, Int64, Double, Double).self) {
            result.append((channel, Int(delivered), Int(attempts), max(0, p50), max(0, p99)))
        }
        return result.map { (channel: $0.0, delivered: $0.1, attempts: $0.2, p50: $0.3, p99: $0.4) }
    }

    /// A tenant's notifications, newest first; for one incident when given.
    public func list(tenant: TenantID, incident: IncidentID? = nil, recipients: [NotificationRecipient]? = nil, limit: Int = 200) async throws
        -> [NotificationStatus]
    {
        let recipientFilter = (recipients ?? [.dynamic, .customerPrimary, .customerAfterHours]).map(\.rawValue)
        let rows = try await database.client.query(
            """
            SELECT \(unescaped: Self.columns), status, attempts, next_attempt_at, last_error, delivered_at, failed_at, acknowledged_at, acknowledged_by
            FROM notification_outbox
            WHERE tenant_id = \(tenant.rawValue) AND (\(incident?.description ?? "")::text = '' OR incident_id = nullif(\(incident?.description ?? ""), '')::uuid)
              AND recipient = ANY(\(recipientFilter)::text[])
            ORDER BY occurred_at DESC, notification_id LIMIT \(limit)
            """, logger: logger)
        return try await Self.statuses(rows)
    }

    /// One notification of a tenant.
    public func find(_ notificationID: String, tenant: TenantID) async throws -> NotificationStatus? {
        let rows = try await database.client.query(
            """
            SELECT \(unescaped: Self.columns), status, attempts, next_attempt_at, last_error, delivered_at, failed_at, acknowledged_at, acknowledged_by
            FROM notification_outbox WHERE tenant_id = \(tenant.rawValue) AND notification_id = \(notificationID)
            """, logger: logger)
        return try await Self.statuses(rows).first
    }

    static func statuses(_ rows: PostgresRowSequence) async throws -> [NotificationStatus] {
        var result: [NotificationStatus] = []
        for try await row in rows {
            let (entry, cells) = try entry(row)
            let status = try cells[15].decode(String.self)
            result.append(
                NotificationStatus(
                    entry: entry, state: NotificationStatus.State(rawValue: status) ?? .pending, attempts: try cells[16].decode(Int.self),
                    nextAttemptAt: status == "pending" ? try cells[17].decode(Date?.self) : nil, lastError: try cells[18].decode(String?.self),
                    deliveredAt: try cells[19].decode(Date?.self), failedAt: try cells[20].decode(Date?.self),
                    acknowledgedAt: try cells[21].decode(Date?.self), acknowledgedBy: try cells[22].decode(String?.self)))
        }
        return result
    }

    /// The entry in the first 15 columns, and the row for the rest.
    static func entry(_ row: PostgresRow) throws -> (OutboxEntry, PostgresRandomAccessRow) {
        let cells = PostgresRandomAccessRow(row)
        let tenant = try cells[1].decode(String.self)
        guard let tenantID = TenantID(rawValue: tenant) else { throw OutboxRowError(description: "invalid tenant id '\(tenant)' in the outbox") }
        let entry = OutboxEntry(
            notificationID: try cells[0].decode(String.self), tenant: tenantID, causePosition: try cells[2].decode(Int64.self),
            about: NotificationAbout(
                type: try cells[3].decode(String.self), incidentID: try cells[4].decode(UUID?.self).map(IncidentID.init(rawValue:)),
                deviceID: try cells[5].decode(String?.self).flatMap(DeviceID.init(rawValue:)),
                priority: try cells[6].decode(String?.self).flatMap(Priority.init(rawValue:))),
            route: NotificationRouteRecord(
                recipient: NotificationRecipient(rawValue: try cells[7].decode(String.self)) ?? .dynamic,
                channel: ContactRoute.Channel(rawValue: try cells[8].decode(String.self)) ?? .webhook, address: try cells[9].decode(String.self)),
            payload: Data(try cells[10].decode(String.self).utf8), occurredAt: try cells[11].decode(Date.self), sendAt: try cells[12].decode(Date.self),
            resendOf: try cells[13].decode(String?.self), resendNumber: try cells[14].decode(Int.self))
        return (entry, cells)
    }
}

struct OutboxRowError: Error, CustomStringConvertible {
    var description: String
}

// MARK: Webhook endpoints

/// A webhook endpoint's signing secrets and state.
public struct WebhookEndpoint: Sendable, Hashable {
    public var url: String
    /// `whsec_…` secrets; each call carries one signature per secret.
    public var secrets: [String]
    public var disabledAt: Date?
    public var disabledReason: String?
    public var updatedAt: Date
}

/// The `webhook_endpoints` table: secrets per URL, and endpoints disabled by a 410.
public struct WebhookEndpointStore: Sendable {
    public let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger = Logger(label: "mdr.webhooks")) {
        self.database = database
        self.logger = logger
    }

    /// Sets an endpoint's secrets (replacing the old ones) and enables it.
    public func set(url: String, secrets: [String]) async throws {
        try await database.client.query(
            """
            INSERT INTO webhook_endpoints (url, secrets) VALUES (\(url), \(secrets))
            ON CONFLICT (url) DO UPDATE SET secrets = excluded.secrets, disabled_at = NULL, disabled_reason = NULL, updated_at = now()
            """, logger: logger)
    }

    /// Enables an endpoint a 410 disabled. Returns whether it exists.
    public func enable(url: String) async throws -> Bool {
        let rows = try await database.client.query(
            "UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, updated_at = now() WHERE url = \(url) RETURNING url",
            logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Disables an endpoint (it answered 410 Gone).
    public func disable(url: String, reason: String, at: Date) async throws {
        try await database.client.query(
            """
            UPDATE webhook_endpoints SET disabled_at = coalesce(disabled_at, \(at)), disabled_reason = coalesce(disabled_reason, \(reason)),
                updated_at = now()
            WHERE url = \(url)
            """, logger: logger)
    }

    /// Removes an endpoint. Returns whether it existed.
    public func remove(url: String) async throws -> Bool {
        let rows = try await database.client.query("DELETE FROM webhook_endpoints WHERE url = \(url) RETURNING url", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// All endpoints, by URL.
    public func list() async throws -> [WebhookEndpoint] {
        let rows = try await database.client.query(
            "SELECT url, secrets, disabled_at, disabled_reason, updated_at FROM webhook_endpoints ORDER BY url", logger: logger)
        var result: [WebhookEndpoint] = []
        for try await (url, secrets, disabledAt, reason, updatedAt) in rows.decode((String, [String], Date?, String?, Date).self) {
            result.append(WebhookEndpoint(url: url, secrets: secrets, disabledAt: disabledAt, disabledReason: reason, updatedAt: updatedAt))
        }
        return result
    }

    /// The endpoints with these URLs.
    public func find(urls: [String]) async throws -> [String: WebhookEndpoint] {
        let rows = try await database.client.query(
            "SELECT url, secrets, disabled_at, disabled_reason, updated_at FROM webhook_endpoints WHERE url = ANY(\(urls)::text[])",
            logger: logger)
        var result: [String: WebhookEndpoint] = [:]
        for try await (url, secrets, disabledAt, reason, updatedAt) in rows.decode((String, [String], Date?, String?, Date).self) {
            result[url] = WebhookEndpoint(url: url, secrets: secrets, disabledAt: disabledAt, disabledReason: reason, updatedAt: updatedAt)
        }
        return result
    }
}

extension NotificationOutbox: StreamForgetting {
    /// Forgets the settled entries of removed notification streams (pending ones are still work).
    public func forget(streams: [StreamName], tenant: TenantID, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            DELETE FROM notification_outbox
            WHERE tenant_id = \(tenant.rawValue) AND notification_id = ANY(\(RemovedStreams(streams).notifications)) AND status IN ('delivered', 'failed')
            """, logger: logger)
    }
}
