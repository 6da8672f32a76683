import Foundation
import Logging
import MDRDomain
import MDRStore
import PostgresNIO
import ServiceLifecycle

/// Keeps projections up to date with every tenant's log: exactly once into the read model.
///
/// Work is found as the tenants whose head is beyond the projection's checkpoint. A round claims the checkpoint row
/// of one (projection, tenant) with `FOR UPDATE SKIP LOCKED` (several instances cooperate without a coordinator, and
/// behind a connection pooler), reads a page of the log past it, lets the projection write its rows and moves the
/// checkpoint in the same transaction, as a compare-and-set on the position it read. Woken by the store's append
/// signal (local appends and other instances' NOTIFY) and by a poll interval as the fallback.
public final class ProjectionRunner: Service, Sendable {
    /// The projections this runner keeps up to date, in the order it runs them.
    public let projections: [any Projection]
    let store: EventStore
    let pollInterval: Duration
    let pageSize: Int
    let concurrency: Int
    let logger: Logger

    /// - Parameters:
    ///   - pageSize: events per transaction (at most; fewer when the projection skips types).
    ///   - concurrency: how many (projection, tenant) pages a round applies at once, each on a connection of its own.
    public init(
        _ projections: [any Projection], store: EventStore, pollInterval: Duration = .seconds(1), pageSize: Int = 2000,
        concurrency: Int = 4, logger: Logger
    ) {
        precondition(Set(projections.map(\.name)).count == projections.count, "projection names must be unique")
        self.projections = projections
        self.store = store
        self.pollInterval = pollInterval
        self.pageSize = pageSize
        self.concurrency = max(1, concurrency)
        var logger = logger
        logger[metadataKey: "component"] = "projections"
        self.logger = logger
    }

    /// Runs until graceful shutdown: first rebuilds projections whose schema version changed, then applies new
    /// events as they arrive. A failed round is logged and retried after the poll interval.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var prepared = false
            while !Task.isCancelled {
                let generation = self.store.signal.generation
                do {
                    if !prepared {
                        try await self.prepare()
                        prepared = true
                    }
                    if try await self.runOnce() > 0 { continue }
                } catch {
                    if Task.isCancelled { return }
                    self.logger.error("projection round failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                }
                await self.store.signal.wait(after: generation, timeout: self.pollInterval)
            }
        }
    }

    /// Records each projection's schema version, and resets a projection whose rows were built with another one (the
    /// rounds that follow replay it). Safe with several instances starting at once: the version row is locked.
    public func prepare() async throws {
        for projection in projections {
            let name = projection.name
            let version = projection.version
            try await transaction { connection in
                try await connection.query(
                    "INSERT INTO projection_versions (projection, version) VALUES (\(name), \(version)) ON CONFLICT DO NOTHING",
                    logger: self.logger)
                var stored = version
                for try await v in try await connection.query(
                    "SELECT version FROM projection_versions WHERE projection = \(name) FOR UPDATE", logger: self.logger
                ).decode(Int.self) {
                    stored = v
                }
                guard stored != version else { return }
                self.logger.notice(
                    "projection schema changed; rebuilding", metadata: ["projection": "\(name)", "from": "\(stored)", "to": "\(version)"])
                try await self.reset(projection, on: connection)
            }
        }
    }

    /// One round over every projection and every tenant with work, `concurrency` (projection, tenant) pages at a
    /// time; returns the number of log positions applied.
    @discardableResult
    public func runOnce() async throws -> Int {
        var work: [(projection: any Projection, tenant: TenantID, hasCheckpoint: Bool)] = []
        for projection in projections {
            for (tenant, hasCheckpoint) in try await tenantsWithWork(projection) {
                work.append((projection, tenant, hasCheckpoint))
            }
        }
        return try await withThrowingTaskGroup(of: Int.self) { group in
            var next = 0
            func startNext() {
                guard next < work.count else { return }
                let item = work[next]
                next += 1
                group.addTask { try await self.process(item.projection, tenant: item.tenant, hasCheckpoint: item.hasCheckpoint) }
            }
            for _ in 0..<concurrency { startNext() }
            var done = 0
            while let moved = try await group.next() {
                done += moved
                startNext()
            }
            return done
        }
    }

    /// Runs rounds until no projection has work left (tests, `mdr projections rebuild`).
    public func drain() async throws {
        while try await runOnce() > 0 {}
    }

    /// Drops the projection's rows and checkpoints and replays every tenant's log into it. Other instances keep
    /// running: they skip the tenants being reset and catch up with the replay.
    public func rebuild(_ name: String) async throws {
        guard let projection = projections.first(where: { $0.name == name }) else {
            throw ProjectionError(.unknownProjection, "no projection '\(name)': use one of \(projections.map(\.name).joined(separator: ", "))")
        }
        try await transaction { connection in try await self.reset(projection, on: connection) }
        let only = ProjectionRunner([projection], store: store, pollInterval: pollInterval, pageSize: pageSize, concurrency: concurrency, logger: logger)
        try await only.drain()
    }

    /// Drops every projection's rows and checkpoints, each in a transaction of its own; the rounds that follow
    /// (`drain`, or `run` of any instance) replay them. With several workers draining, a rebuild runs in parallel.
    public func resetAll() async throws {
        for projection in projections {
            try await transaction { connection in try await self.reset(projection, on: connection) }
        }
    }

    /// How far each projection is behind each tenant's log (every tenant with events, caught up or not).
    public func lag(tenants: [TenantID]? = nil) async throws -> [ProjectionLag] {
        try await Self.lag(of: projections.map(\.name), database: store.database, tenants: tenants, logger: logger)
    }

    /// How far the named projections are behind each tenant's log; `tenants` limits the answer (nil: all).
    public static func lag(of names: [String], database: Database, tenants: [TenantID]? = nil, logger: Logger) async throws -> [ProjectionLag] {
        let scope = tenants?.map(\.rawValue)
        let rows = try await database.client.query(
            """
            SELECT p.name, h.tenant_id, h.last_position, coalesce(c.position, 0),
                   coalesce(extract(epoch FROM now() - (
                       SELECT e.recorded_at FROM events e WHERE e.tenant_id = h.tenant_id AND e.position = coalesce(c.position, 0) + 1
                   ))::float8, 0)
            FROM unnest(\(names)::text[]) AS p(name)
            CROSS JOIN tenant_heads h
            LEFT JOIN projection_checkpoints c ON c.tenant_id = h.tenant_id AND c.projection = p.name
            WHERE \(scope)::text[] IS NULL OR h.tenant_id = ANY(\(scope)::text[])
            ORDER BY p.name, h.tenant_id
            """, logger: logger)
        var lags: [ProjectionLag] = []
        for try await (name, tenant, head, checkpoint, seconds) in rows.decode((String, String, Int64, Int64, Double).self) {
            guard let id = TenantID(rawValue: tenant) else { continue }
            lags.append(ProjectionLag(projection: name, tenant: id, head: head, checkpoint: checkpoint, secondsBehind: max(0, seconds)))
        }
        return lags
    }

    // MARK: Rounds

    func tenantsWithWork(_ projection: any Projection) async throws -> [(TenantID, Bool)] {
        let rows = try await store.database.client.query(
            """
            SELECT h.tenant_id, c.position IS NOT NULL FROM tenant_heads h
            LEFT JOIN projection_checkpoints c ON c.tenant_id = h.tenant_id AND c.projection = \(projection.name)
            WHERE h.last_position > coalesce(c.position, 0)
            ORDER BY h.tenant_id LIMIT 500
            """, logger: logger)
        var tenants: [(TenantID, Bool)] = []
        for try await (raw, hasCheckpoint) in rows.decode((String, Bool).self) {
            if let id = TenantID(rawValue: raw) { tenants.append((id, hasCheckpoint)) }
        }
        return tenants
    }

    /// Applies one page of one tenant's log in one transaction; returns how far the checkpoint moved (0 when another
    /// instance holds the tenant).
    func process(_ projection: any Projection, tenant: TenantID, hasCheckpoint: Bool = true) async throws -> Int {
        let name = projection.name
        return try await transaction { connection in
            if !hasCheckpoint {
                try await connection.query(
                    "INSERT INTO projection_checkpoints (tenant_id, projection) VALUES (\(tenant.rawValue), \(name)) ON CONFLICT DO NOTHING",
                    logger: self.logger)
            }
            var claimed: Int64? = nil
            for try await position in try await connection.query(
                """
                SELECT position FROM projection_checkpoints WHERE tenant_id = \(tenant.rawValue) AND projection = \(name)
                FOR UPDATE SKIP LOCKED
                """, logger: self.logger
            ).decode(Int64.self) {
                claimed = position
            }
            guard let checkpoint = claimed else { return 0 }
            let reached = try await self.applyPage(projection, tenant: tenant, after: checkpoint, on: connection)
            return Int(reached - checkpoint)
        }
    }

    /// Reads the page of the tenant's log after `checkpoint`, applies it and moves the checkpoint from `checkpoint` to
    /// the page's end — only if it still is at `checkpoint` (compare-and-set): otherwise throws `stale_checkpoint`
    /// and the caller's transaction must roll back. Returns the new checkpoint.
    func applyPage(_ projection: any Projection, tenant: TenantID, after checkpoint: Int64, on connection: PostgresConnection) async throws
        -> Int64
    {
        var head: Int64 = 0
        for try await position in try await connection.query(
            "SELECT last_position FROM tenant_heads WHERE tenant_id = \(tenant.rawValue)", logger: logger
        ).decode(Int64.self) {
            head = position
        }
        guard head > checkpoint else { return checkpoint }
        let page = try await store.readLog(tenant: tenant, after: checkpoint, limit: pageSize, types: projection.eventTypes, on: connection)
        // Positions are gap-free and handed out in commit order: a short page means every event up to the head (as read
        // above) has been seen; a full page ends at its last event.
        let end = page.count < pageSize ? head : page[page.count - 1].position
        let events = page.filter { $0.position <= end }
        if !events.isEmpty {
            try await projection.apply(events, tenant: tenant, on: connection)
        }
        try await Self.advance(projection.name, tenant: tenant, from: checkpoint, to: end, on: connection, logger: logger)
        return end
    }

    /// Moves the checkpoint from `old` to `new`, or throws `stale_checkpoint` when it is no longer at `old`.
    static func advance(_ name: String, tenant: TenantID, from old: Int64, to new: Int64, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        var moved = false
        for try await _ in try await connection.query(
            """
            UPDATE projection_checkpoints SET position = \(new), updated_at = now()
            WHERE tenant_id = \(tenant.rawValue) AND projection = \(name) AND position = \(old)
            RETURNING position
            """, logger: logger
        ).decode(Int64.self) {
            moved = true
        }
        guard moved else {
            throw ProjectionError(
                .staleCheckpoint, "checkpoint of '\(name)' for tenant '\(tenant)' is no longer at \(old): another runner applied these events")
        }
    }

    /// Removes the projection's rows and checkpoints and records its current version. The checkpoint rows are locked
    /// first, so rounds in flight finish before the rows go and new rounds skip the tenants until the reset commits.
    func reset(_ projection: any Projection, on connection: PostgresConnection) async throws {
        let name = projection.name
        for try await _ in try await connection.query(
            "SELECT position FROM projection_checkpoints WHERE projection = \(name) FOR UPDATE", logger: logger
        ).decode(Int64.self) {}
        try await projection.reset(on: connection)
        try await connection.query("DELETE FROM projection_checkpoints WHERE projection = \(name)", logger: logger)
        try await connection.query(
            """
            INSERT INTO projection_versions (projection, version, rebuilt_at) VALUES (\(name), \(projection.version), now())
            ON CONFLICT (projection) DO UPDATE SET version = EXCLUDED.version, rebuilt_at = EXCLUDED.rebuilt_at
            """, logger: logger)
    }

    /// A transaction whose errors come out as thrown by `body` (PostgresNIO wraps them in `PostgresTransactionError`).
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await store.database.client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }
}
