import Foundation
import Logging
import MDRDomain
import MDRResponse
import MDRStore
import PostgresNIO

/// One tenant's Microsoft Graph alerts connection: how to reach it, and how its pull goes.
public struct GraphConnection: Sendable, Equatable, CustomStringConvertible {
    public var tenant: TenantID
    public var credentials: EntraAppCredentials
    public var health: GraphConnectorHealth
    public var createdAt: Date
    public var updatedAt: Date

    /// Everything but the secret.
    public var description: String { "GraphConnection(tenant: \(tenant), \(credentials))" }
}

/// How a tenant's pull goes: what an operator and the SOC look at when alerts seem to be missing.
public struct GraphConnectorHealth: Sendable, Equatable, Codable {
    /// Alerts updated at or after this (less the overlap) are asked for next; nil before the first complete sweep.
    public var checkpoint: Date?
    /// The last sweep that ingested every page.
    public var lastSuccessAt: Date?
    /// The last failure, with its time; cleared by nothing (compare with `lastSuccessAt`).
    public var lastError: String?
    public var lastErrorAt: Date?
    /// Failures since the last success (the back-off grows with them).
    public var failures: Int
    /// When the next pull is due.
    public var nextPollAt: Date
    /// Alerts handed to ingest since the connection was set (duplicates and updates included).
    public var alertsIngested: Int64
    /// A sweep is half done: it goes on from where it stopped.
    public var sweepInProgress: Bool

    /// `pending` (no complete sweep yet, no failure), `ok`, or `failing` (the last pull failed).
    public static func state(_ health: GraphConnectorHealth) -> String {
        health.failures > 0 ? "failing" : (health.lastSuccessAt == nil ? "pending" : "ok")
    }

    /// Seconds since the last complete sweep at `now` (since the connection was set when there was none).
    public func lag(at now: Date, setAt: Date) -> TimeInterval { max(0, now.timeIntervalSince(lastSuccessAt ?? setAt)) }
}

/// The table `graph_connections` (migration 0019): per tenant, the Graph connection and where its pull stands.
public struct GraphConnectionStore: Sendable {
    let database: Database
    let queue: LeasedQueue

    public init(database: Database) {
        self.database = database
        self.queue = LeasedQueue(table: "graph_connections", key: ["tenant_id"], database: database)
    }

    var logger: Logger { database.logger }

    /// Creates or replaces the tenant's connection. A new one pulls at once, from the initial look-back; replacing the
    /// credentials keeps the checkpoint (the same tenant's alerts, asked for as another app).
    /// It is due at `now`.
    public func set(tenant: TenantID, credentials c: EntraAppCredentials, now: Date = Date()) async throws {
        try await database.client.query(
            """
            INSERT INTO graph_connections (tenant_id, base_url, authority, entra_tenant_id, client_id, client_secret, scope, next_poll_at)
            VALUES (\(tenant.rawValue), \(c.baseURL), \(c.authority), \(c.tenantID), \(c.clientID), \(c.clientSecret), \(c.scope), \(now))
            ON CONFLICT (tenant_id) DO UPDATE SET
                base_url = EXCLUDED.base_url, authority = EXCLUDED.authority, entra_tenant_id = EXCLUDED.entra_tenant_id,
                client_id = EXCLUDED.client_id, client_secret = EXCLUDED.client_secret, scope = EXCLUDED.scope,
                next_poll_at = EXCLUDED.next_poll_at, failures = 0, updated_at = now()
            """, logger: logger)
    }

    /// The tenant's connection, or nil.
    public func connection(tenant: TenantID) async throws -> GraphConnection? {
        try await read(where: tenant).first
    }

    /// Every connection, by tenant.
    public func list() async throws -> [GraphConnection] {
        try await read(where: nil)
    }

    /// Removes the tenant's connection; false when it had none. Alerts already ingested stay in the log.
    public func remove(tenant: TenantID) async throws -> Bool {
        let rows = try await database.client.query(
            "DELETE FROM graph_connections WHERE tenant_id = \(tenant.rawValue) RETURNING tenant_id", logger: logger)
        for try await _ in rows.decode(String.self) { return true }
        return false
    }

    static let columns = """
        tenant_id, base_url, authority, entra_tenant_id, client_id, client_secret, scope, checkpoint, resume_link, sweep_newest,
        next_poll_at, failures, last_success_at, last_error, last_error_at, alerts_ingested, created_at, updated_at
        """

    private func read(where tenant: TenantID?) async throws -> [GraphConnection] {
        let rows = try await database.client.query(
            """
            SELECT \(unescaped: Self.columns) FROM graph_connections
            WHERE \(tenant?.rawValue)::text IS NULL OR tenant_id = \(tenant?.rawValue) ORDER BY tenant_id
            """, logger: logger)
        var found: [GraphConnection] = []
        for try await row in rows { if let c = try Self.claimed(row)?.connection { found.append(c) } }
        return found
    }

    // MARK: The pull (the poller)

    /// A connection leased to one worker, with where its sweep stands.
    public struct Claimed: Sendable {
        public var connection: GraphConnection
        public var resumeLink: String?
        public var sweepNewest: Date?
    }

    static func claimed(_ row: PostgresRow) throws -> Claimed? {
        let c = row.makeRandomAccess()
        let id = try c[0].decode(String.self)
        let (base, authority, entra) = (try c[1].decode(String.self), try c[2].decode(String.self), try c[3].decode(String.self))
        let (client, secret, scope) = (try c[4].decode(String.self), try c[5].decode(String.self), try c[6].decode(String.self))
        let (checkpoint, resume, newest) = (try c[7].decode(Date?.self), try c[8].decode(String?.self), try c[9].decode(Date?.self))
        let (nextPoll, failures, success) = (try c[10].decode(Date.self), try c[11].decode(Int.self), try c[12].decode(Date?.self))
        let (error, errorAt, ingested) = (try c[13].decode(String?.self), try c[14].decode(Date?.self), try c[15].decode(Int64.self))
        let (created, updated) = (try c[16].decode(Date.self), try c[17].decode(Date.self))
        guard let tenant = TenantID(rawValue: id) else { return nil }
        let health = GraphConnectorHealth(
            checkpoint: checkpoint, lastSuccessAt: success, lastError: error, lastErrorAt: errorAt, failures: failures, nextPollAt: nextPoll,
            alertsIngested: ingested, sweepInProgress: resume != nil)
        return Claimed(
            connection: GraphConnection(
                tenant: tenant,
                credentials: EntraAppCredentials(
                    baseURL: base, authority: authority, tenantID: entra, clientID: client, clientSecret: secret, scope: scope),
                health: health, createdAt: created, updatedAt: updated),
            resumeLink: resume, sweepNewest: newest)
    }

    /// Leases up to `limit` connections due at `now` to the caller.
    public func claimDue(now: Date, limit: Int, lease: Duration) async throws -> (LeasedQueue.Lease, [Claimed]) {
        let (granted, rows) = try await queue.claim(
            due: "c.next_poll_at <= $3", order: "c.next_poll_at", limit: limit, lease: lease, now: now,
            returning: Self.columns.split(separator: ",").map { "q." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", "))
        var claimed: [Claimed] = []
        for try await row in rows { if let c = try Self.claimed(row) { claimed.append(c) } }
        return (granted, claimed)
    }

    /// Keeps the lease alive while `body` pulls.
    public func holding<T: Sendable>(_ lease: LeasedQueue.Lease, for duration: Duration, now: @escaping @Sendable () -> Date, _ body: () async throws -> T)
        async throws -> T
    {
        try await queue.holding(lease.token, for: duration, renewEvery: .seconds(max(1, Int64(duration.components.seconds / 3))), now: now, body)
    }

    /// What a pull of one connection ended with.
    public enum Outcome: Sendable, Equatable {
        /// Every page ingested: the checkpoint moves to `newest` (when the sweep saw any alert).
        case swept(newest: Date?, alerts: Int, nextPollAt: Date, at: Date)
        /// Stopped between pages (a page limit, a throttle, a failure after some pages): goes on from `resumeLink`.
        case paused(resumeLink: String, newest: Date?, alerts: Int, nextPollAt: Date, error: String?, at: Date)
        /// Failed before any page of this round was ingested.
        case failed(error: String, nextPollAt: Date, at: Date)
    }

    /// Records the outcome and frees the row, if the lease still holds (false: another worker has it now, and nothing
    /// is written).
    @discardableResult
    public func settle(_ tenant: TenantID, lease: LeasedQueue.Lease, _ outcome: Outcome) async throws -> Bool {
        let query: PostgresQuery
        switch outcome {
        case .swept(let newest, let alerts, let next, let at):
            query = """
                UPDATE graph_connections SET
                    checkpoint = GREATEST(checkpoint, sweep_newest, \(newest)), resume_link = NULL, sweep_newest = NULL,
                    next_poll_at = \(next), failures = 0, last_success_at = \(at), alerts_ingested = alerts_ingested + \(alerts),
                    lease_token = NULL, lease_until = NULL, updated_at = now()
                WHERE tenant_id = \(tenant.rawValue) AND lease_token = \(lease.token) RETURNING 1
                """
        case .paused(let link, let newest, let alerts, let next, let error, let at):
            query = """
                UPDATE graph_connections SET
                    resume_link = \(link), sweep_newest = GREATEST(sweep_newest, \(newest)), next_poll_at = \(next),
                    failures = CASE WHEN \(error)::text IS NULL THEN 0 ELSE failures + 1 END,
                    last_error = coalesce(\(error), last_error), last_error_at = CASE WHEN \(error)::text IS NULL THEN last_error_at ELSE \(at) END,
                    alerts_ingested = alerts_ingested + \(alerts), lease_token = NULL, lease_until = NULL, updated_at = now()
                WHERE tenant_id = \(tenant.rawValue) AND lease_token = \(lease.token) RETURNING 1
                """
        case .failed(let error, let next, let at):
            query = """
                UPDATE graph_connections SET
                    next_poll_at = \(next), failures = failures + 1, last_error = \(error), last_error_at = \(at),
                    lease_token = NULL, lease_until = NULL, updated_at = now()
                WHERE tenant_id = \(tenant.rawValue) AND lease_token = \(lease.token) RETURNING 1
                """
        }
        for try await _ in try await database.client.query(query, logger: logger) { return true }
        return false
    }

    /// Gives a leased connection back untouched (the round ran out of time before it).
    public func release(_ tenant: TenantID, lease: LeasedQueue.Lease) async throws {
        try await database.client.query(
            """
            UPDATE graph_connections SET lease_token = NULL, lease_until = NULL
            WHERE tenant_id = \(tenant.rawValue) AND lease_token = \(lease.token)
            """, logger: logger)
    }

    /// When the next connection is due (for the poller's wait), or nil when there is none.
    public func nextDue() async throws -> Date? {
        var due: Date?
        for try await next in try await database.client.query(
            "SELECT min(coalesce(greatest(next_poll_at, lease_until), next_poll_at)) FROM graph_connections", logger: logger
        ).decode(Date?.self) { due = next }
        return due
    }
}
