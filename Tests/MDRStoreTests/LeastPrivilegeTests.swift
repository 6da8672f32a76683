import Foundation
import MDRDomain
@testable import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// Least privilege in PostgreSQL (migration 0018; docs/operations.md, "Database roles"): the migrations run as the
/// owner, the service as a login that owns nothing, and tenant scopes as a login that row-level security confines by
/// itself. Each test makes its own login roles (roles are the cluster's, shared by parallel tests) and drops them.
@Suite("Least privilege")
struct LeastPrivilegeTests {
    /// A login role member of `group`, for the length of `body`.
    func withLogin<T: Sendable>(
        _ group: String, _ config: DatabaseConfiguration, _ body: (DatabaseConfiguration) async throws -> T
    ) async throws -> T {
        let name = "mdr_test_login_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        let admin = try await TestDatabase.connect(config, id: 9)
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(name) LOGIN IN ROLE \(group)"), logger: TestDatabase.logger)
        var login = config
        login.username = name
        let result: Result<T, any Error>
        do { result = .success(try await body(login)) } catch { result = .failure(error) }
        // Its sessions end with the test database (dropped WITH (FORCE)); until then the role cannot be dropped.
        _ = try? await admin.query(
            PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(name)'"), logger: TestDatabase.logger)
        _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP ROLE IF EXISTS \(name)"), logger: TestDatabase.logger)
        try? await admin.close()
        return try result.get()
    }

    func withDatabase(
        _ config: DatabaseConfiguration, tenantScope: DatabaseConfiguration? = nil, _ body: @Sendable (Database) async throws -> Void
    ) async throws {
        let database = Database(config, tenantScope: tenantScope, logger: TestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            try await body(database)
        }
    }

    func count(_ db: Database, _ sql: String) async throws -> Int64 {
        var n: Int64 = -1
        for try await value in try await db.client.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger).decode(Int64.self) { n = value }
        return n
    }

    func sqlState(_ db: Database, _ sql: String) async -> String? {
        do {
            try await db.client.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger)
            return nil
        } catch let error as PSQLError {
            return error.serverInfo?[.sqlState] ?? "no state"
        } catch {
            return "\(error)"
        }
    }

    static let denied = "42501"

    @Test func theServiceLoginOwnsNothingAndStillDoesTheServicesWork() async throws {
        try await TestDatabase.withDatabase { _, config in
            try await withLogin("mdr_service", config) { login in
                try await withDatabase(login) { db in
                    // The owner migrated: nothing to apply, and no attempt to create what exists.
                    #expect(try await Migrator(database: db).migrate().isEmpty)
                    let store = EventStore(database: db)
                    for tenant in [acme, globex] { _ = try await store.append(tenant: tenant, events: [event("s1"), event("s2")]) }
                    // Across tenants, as processors and the SOC's requests work.
                    #expect(try await count(db, "SELECT count(*) FROM events") == 4)
                    #expect(try await count(db, "SELECT count(*) FROM tenant_heads") == 2)
                    #expect(await sqlState(db, "TRUNCATE incident_view") == nil)
                    #expect(await sqlState(db, "UPDATE consumer_checkpoints SET position = position") == nil)
                    // Tables of later migrations are the service's by default privileges (0019 grants nothing itself).
                    #expect(try await count(db, "SELECT count(*) FROM graph_connections") == 0)
                    // No schema changes, and the log is not rewritten.
                    #expect(await sqlState(db, "CREATE TABLE stolen (x int)") == Self.denied)
                    #expect(await sqlState(db, "DROP TABLE incident_view") == Self.denied)
                    #expect(await sqlState(db, "ALTER TABLE events DISABLE TRIGGER events_append_only") == Self.denied)
                    #expect(await sqlState(db, "UPDATE events SET type = 'x'") == Self.denied)
                    #expect(await sqlState(db, "TRUNCATE events") == Self.denied)
                    #expect(await sqlState(db, "SET ROLE postgres") == Self.denied)
                }
            }
        }
    }

    @Test func aMigrationTheServiceLoginCannotApplySaysToRunItAsTheOwner() async throws {
        try await TestDatabase.withDatabase { owner, config in
            try await owner.client.query("DELETE FROM schema_migrations WHERE version = 18", logger: TestDatabase.logger)
            try await withLogin("mdr_service", config) { login in
                try await withDatabase(login) { db in
                    await #expect {
                        try await Migrator(database: db).migrate()
                    } throws: { error in
                        "\(error)".contains("migration 18 (least_privilege) needs the database's owner") && "\(error)".contains("mdr migrate")
                    }
                }
            }
        }
    }

    /// On the service's own connections a `RESET ROLE` (a bug, or SQL smuggled into a request) leads back to the
    /// service's role, which sees every tenant. With a tenant login it leads back to a role that is confined itself.
    @Test func withATenantLoginResetRoleStillSeesOnlyTheScopesTenant() async throws {
        try await TestDatabase.withDatabase { owner, config in
            let store = EventStore(database: owner)
            for tenant in [acme, globex] { _ = try await store.append(tenant: tenant, events: [event("s1"), event("s2"), event("s1")]) }
            try await withLogin("mdr_tenant_scoped", config) { tenantLogin in
                try await withDatabase(config, tenantScope: tenantLogin) { db in
                    try await db.withTenantScope(acme) { () async throws in
                        #expect(try await count(db, "SELECT count(*) FROM events") == 3)
                        try await db.client.query("RESET ROLE", logger: TestDatabase.logger)
                        #expect(try await count(db, "SELECT (current_user = session_user)::int::int8") == 1)
                        #expect(try await count(db, "SELECT count(*) FROM events") == 3)
                        #expect(try await count(db, "SELECT count(*) FROM events WHERE tenant_id = 'globex'") == 0)
                        #expect(await sqlState(db, "SET ROLE mdr_service") == Self.denied)
                    }
                    // The service's own work is on its own pool, across tenants.
                    #expect(try await count(db, "SELECT count(*) FROM events") == 6)
                }
            }
            // Without a tenant login (MDR_TENANT_DATABASE_URL unset) the same RESET ROLE escapes: why it exists.
            try await owner.withTenantScope(acme) { () async throws in
                try await owner.client.query("RESET ROLE", logger: TestDatabase.logger)
                #expect(try await count(owner, "SELECT count(*) FROM events") == 6)
            }
        }
    }

    /// A customer's or connector's request appends to the log and reads; the views, the outbox's delivery state,
    /// response actions and checkpoints are the service's work, refused to the scope even for its own tenant.
    @Test func aTenantScopeWritesOnlyTheLogItsCountsAndAcknowledgements() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let store = EventStore(database: db)
            _ = try await store.append(tenant: acme, events: [event("s1")])
            try await db.withTenantScope(acme) { () async throws in
                _ = try await store.append(tenant: acme, events: [event("s2")], command: CommandRecord(id: "c-1", requestHash: nil, result: Data("{}".utf8)))
                #expect(await sqlState(db, "UPDATE notification_outbox SET acknowledged_at = now(), acknowledged_by = 'x'") == nil)
                #expect(await sqlState(db, "UPDATE notification_outbox SET status = 'delivered'") == Self.denied)
                #expect(await sqlState(db, "DELETE FROM notification_outbox") == Self.denied)
                #expect(await sqlState(db, "UPDATE incident_view SET status = 'dismissed'") == Self.denied)
                #expect(await sqlState(db, "DELETE FROM signal_view") == Self.denied)
                #expect(await sqlState(db, "UPDATE consumer_checkpoints SET position = 0") == Self.denied)
                #expect(await sqlState(db, "UPDATE response_actions SET status = 'done'") == Self.denied)
                #expect(await sqlState(db, "DELETE FROM commands") == Self.denied)
            }
            #expect(try await store.head(tenant: acme) == 2)
        }
    }
}
