import Foundation
import Logging
import MDRDomain
import PostgresNIO

/// A work queue kept in a table of its own and worked on under leases — the one mechanism of the notification outbox
/// (`notification_outbox`) and the responder's EDR work (`response_actions`):
///
/// 1. **Claim**: due rows not under a live lease are leased to one worker in one statement
///    (`UPDATE … SET lease_token, lease_until WHERE key IN (SELECT … FOR UPDATE SKIP LOCKED)`): any number of workers
///    and instances never take the same row, behind a connection pooler too.
/// 2. **Work** outside any transaction (a webhook, a Defender call): a transaction must not wait on the outside world.
/// 3. **Settle**, in one transaction: the row's new state is written only while the worker's lease still holds
///    (`lease_token` = its token), and the outcome events of exactly those rows are appended to the log in the same
///    transaction. A worker whose lease ran out (it was slow, or died and came back) records nothing: the row is
///    another worker's now. The work itself is at least once; the events are exactly once.
///
/// A table used as a queue has `lease_token uuid` and `lease_until timestamptz` columns.
public struct LeasedQueue: Sendable {
    /// The queue's table.
    public let table: String
    /// The columns that identify a row, in the table's primary key order (e.g. `["tenant_id", "request_event_id"]`).
    public let key: [String]
    let database: Database

    public init(table: String, key: [String], database: Database) {
        self.table = table
        self.key = key
        self.database = database
    }

    var logger: Logger { database.logger }

    /// A claim: the worker's token, and until when the rows are its own.
    public struct Lease: Sendable, Equatable {
        public var token: UUID
        public var until: Date
    }

    /// Claims up to `limit` rows that are due (`due`, an SQL condition on the table's columns, aliased `c`, in which `$3`
    /// is `now`) and not under a live lease at `now`, first by `order`; returns the lease and the rows, with `returning`
    /// (columns of the updated rows, aliased `q`).
    public func claim(
        due: String, order: String, limit: Int, lease duration: Duration, now: Date, returning: String
    ) async throws -> (Lease, PostgresRowSequence) {
        let lease = Lease(token: UUID(), until: now.addingTimeInterval(duration.inSeconds))
        let sql = """
            UPDATE \(table) q SET lease_token = $1, lease_until = $2
            WHERE (\(key.map { "q." + $0 }.joined(separator: ", "))) IN (
                SELECT \(key.map { "c." + $0 }.joined(separator: ", ")) FROM \(table) c
                WHERE (\(due)) AND (c.lease_until IS NULL OR c.lease_until <= $3)
                ORDER BY \(order) LIMIT \(max(1, limit))
                FOR UPDATE SKIP LOCKED)
            RETURNING \(returning)
            """
        var binds = PostgresBindings()
        try binds.append(lease.token)
        try binds.append(lease.until)
        try binds.append(now)
        let rows = try await database.client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        return (lease, rows)
    }

    /// Runs `body` (the work on rows claimed under the lease `token`) while keeping the lease alive: every `every`, the
    /// rows still held under the token get `lease_until = now() + duration`. Leases can therefore be short: a worker that dies
    /// stops renewing and its rows are free `duration` after its last renewal, while a slow but living worker (a
    /// Defender call with back-off, a batch of webhooks) keeps them however long its round takes. A failed renewal is
    /// logged and tried again at the next tick; settling checks the token anyway.
    public func holding<T: Sendable>(
        _ token: UUID, for duration: Duration, renewEvery every: Duration, now: @escaping @Sendable () -> Date,
        _ body: () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    do {
                        try await Task.sleep(for: every)
                        try await self.renew(token, until: now().addingTimeInterval(duration.inSeconds))
                    } catch is CancellationError {
                        return
                    } catch {
                        if Task.isCancelled { return }
                        self.logger.warning(
                            "renewing a lease failed; trying again", metadata: ["table": "\(self.table)", "error": "\(String(reflecting: error))"])
                    }
                }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Extends the lease of the rows still held under `token` to `until`; returns how many there were.
    @discardableResult
    public func renew(_ token: UUID, until: Date) async throws -> Int {
        var binds = PostgresBindings()
        try binds.append(token)
        try binds.append(until)
        let rows = try await database.client.query(
            PostgresQuery(unsafeSQL: "UPDATE \(table) SET lease_until = $2 WHERE lease_token = $1 RETURNING 1", binds: binds), logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    /// Settles in one transaction: `update` writes the rows' new state where the lease still holds (it must match
    /// `lease_token` to the worker's token and clear the lease) and returns the keys it settled; `events` gives the
    /// outcome events of a settled key, which are appended, grouped per tenant and in the order of `keys`, in the same
    /// transaction, to `store`. Local subscribers (the pipeline) are woken after the commit. Returns the keys settled.
    ///
    /// An event already in the log (its id is derived from the work, and another worker recorded it first after this
    /// one's lease ran out) is not an error: the rows are settled, and nothing is appended twice.
    @discardableResult
    public func settle<Key: Hashable & Sendable>(
        _ keys: [Key], store: EventStore, update: @escaping @Sendable (PostgresConnection) async throws -> Set<Key>,
        events: @escaping @Sendable (Key) -> (TenantID, [EventToAppend])?
    ) async throws -> Set<Key> {
        do {
            let (settled, appended) = try await transaction { connection -> (Set<Key>, [TenantID: Int64]) in
                let settled = try await update(connection)
                var byTenant: [TenantID: [EventToAppend]] = [:]
                for key in keys where settled.contains(key) {
                    guard let (tenant, list) = events(key), !list.isEmpty else { continue }
                    byTenant[tenant, default: []] += list
                }
                var appended: [TenantID: Int64] = [:]
                for tenant in byTenant.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
                    appended[tenant] = try await store.append(
                        tenant: tenant, events: byTenant[tenant]!, expectations: [:], command: nil, on: connection
                    ).lastPosition
                }
                return (settled, appended)
            }
            for (tenant, last) in appended { store.signal.appended(tenant: tenant, position: last) }
            return settled
        } catch StoreError.duplicateEvent {
            // Recorded by another worker already: settle the rows without the events.
            return try await transaction { connection in try await update(connection) }
        }
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await database.client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

}
