import Foundation
import MDRDomain
@testable import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// Row-level security (migration 0010): inside `Database.withTenantScope`, PostgreSQL itself confines every query to
/// the tenant, whatever the SQL asks for. These tests send the queries a bug would send.
@Suite("Row-level security")
struct RowLevelSecurityTests {
    /// acme and globex, three events each.
    func seed(_ db: Database) async throws -> EventStore {
        let store = EventStore(database: db)
        for tenant in [acme, globex] {
            _ = try await store.append(tenant: tenant, events: [event("s1"), event("s2"), event("s1")])
        }
        return store
    }

    func count(_ db: Database, _ sql: String) async throws -> Int64 {
        var n: Int64 = -1
        for try await value in try await db.client.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger).decode(Int64.self) { n = value }
        return n
    }

    @Test func aScopeTakesItsConnectionAtItsFirstQueryAndGivesItBackReset() async throws {
        try await TestDatabase.withDatabase { db, _ in
            _ = try await seed(db)
            // A request that is refused before it queries (a malformed batch) holds no connection.
            try await db.withTenantScope(acme) { () async throws in
                #expect(TenantScope.current?.holdsConnection == false)
            }
            var backend: Int64 = 0
            try await db.withTenantScope(acme) { () async throws in
                #expect(TenantScope.current?.holdsConnection == false)
                backend = try await count(db, "SELECT pg_backend_pid()::int8")
                #expect(TenantScope.current?.holdsConnection == true)
                // Every query of the scope, child tasks included, runs on that one confined connection.
                async let other = count(db, "SELECT pg_backend_pid()::int8")
                #expect(try await other == backend)
                #expect(try await count(db, "SELECT (current_user = 'mdr_tenant_scoped')::int::int8") == 1)
            }
            // Back in the pool, not confined: the same backend (it is the pool's only idle one here) sees every tenant.
            for _ in 0..<3 {
                try await db.client.withConnection { connection in
                    for try await (user, tenant) in try await connection.query(
                        "SELECT current_user::text, current_setting('mdr.tenant', true)", logger: TestDatabase.logger
                    ).decode((String, String?).self) {
                        #expect(user != "mdr_tenant_scoped")
                        #expect(tenant == nil || tenant == "")
                    }
                }
            }
            #expect(backend > 0)
        }
    }

    @Test func insideAScopeOnlyTheTenantsRowsExist() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let store = try await seed(db)
            try await db.withTenantScope(acme) { () async throws in
                #expect(try await store.readLog(tenant: acme, after: 0).count == 3)
                // A bug asking for another tenant's log gets nothing back, not an error that reveals it exists.
                #expect(try await store.readLog(tenant: globex, after: 0).isEmpty)
                #expect(try await store.readStream(tenant: globex, StreamName(rawValue: "s1")).isEmpty)
                #expect(try await count(db, "SELECT count(*) FROM events") == 3)
                #expect(try await count(db, "SELECT count(DISTINCT tenant_id) FROM tenant_heads") == 1)
            }
            // Outside the scope the service sees every tenant again.
            #expect(try await count(db, "SELECT count(*) FROM events") == 6)
        }
    }

    @Test func insideAScopeNothingCanBeWrittenIntoAnotherTenant() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let store = try await seed(db)
            try await db.withTenantScope(acme) { () async throws in
                _ = try await store.append(tenant: acme, events: [event("s3")])
                await #expect(throws: (any Error).self, "RLS refuses another tenant's row") {
                    _ = try await store.append(tenant: globex, events: [event("s3")])
                }
                await #expect(throws: (any Error).self) {
                    try await db.client.query(
                        "UPDATE consumer_checkpoints SET position = 0 WHERE tenant_id = 'globex'", logger: TestDatabase.logger)
                    try await db.client.query(
                        "INSERT INTO consumer_checkpoints (consumer, tenant_id, position) VALUES ('x', 'globex', 1)", logger: TestDatabase.logger)
                }
            }
            #expect(try await store.head(tenant: acme) == 4)
            #expect(try await store.head(tenant: globex) == 3)
        }
    }

    @Test func secretsAndRetentionAreNotGrantedToTenantScopedRequests() async throws {
        try await TestDatabase.withDatabase { db, _ in
            _ = try await seed(db)
            _ = try await TokenStore(database: db).create(name: "x", role: .soc, tenant: nil, expiresAt: nil)
            try await db.withTenantScope(acme) { () async throws in
                for table in ["api_tokens", "edr_connections", "webhook_endpoints", "syslog_senders", "retention_cuts", "event_tombstones"] {
                    await #expect(throws: (any Error).self, "\(table)") { _ = try await count(db, "SELECT count(*) FROM \(table)") }
                }
                // The log stays append-only for a scoped session, retention setting or not.
                await #expect(throws: (any Error).self) {
                    try await db.client.withTransaction(logger: TestDatabase.logger) { connection in
                        try await connection.query("SET LOCAL mdr.retention = 'on'", logger: TestDatabase.logger)
                        try await connection.query("DELETE FROM events WHERE tenant_id = 'acme'", logger: TestDatabase.logger)
                    }
                }
            }
            #expect(try await count(db, "SELECT count(*) FROM events WHERE tenant_id = 'acme'") == 3)
        }
    }

    @Test func theConnectionGoesBackToThePoolUnconfined() async throws {
        try await TestDatabase.withDatabase { db, _ in
            _ = try await seed(db)
            for _ in 0..<3 {
                await #expect(throws: (any Error).self) {
                    try await db.withTenantScope(acme) { throw CancellationError() }
                }
                try await db.withTenantScope(globex) { () async throws in #expect(try await count(db, "SELECT count(*) FROM events") == 3) }
            }
            // Whichever pooled connection answers, it is the service's own role again, with no tenant set.
            for _ in 0..<10 {
                for try await (role, tenant) in try await db.client.query(
                    "SELECT current_user::text, coalesce(current_setting('mdr.tenant', true), '')", logger: TestDatabase.logger
                ).decode((String, String).self) {
                    #expect(role != "mdr_tenant_scoped")
                    #expect(tenant == "")
                }
            }
            #expect(try await count(db, "SELECT count(*) FROM events") == 6)
            // A scope inside a scope of another tenant is refused.
            await #expect(throws: TenantScopeViolation.self) {
                try await db.withTenantScope(acme) { try await db.withTenantScope(globex) {} }
            }
        }
    }

    @Test func everyTableWithATenantColumnHasThePolicy() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let rows = try await db.client.query(
                """
                SELECT c.table_name::text, cl.relrowsecurity,
                       EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.table_name AND p.policyname = 'tenant_isolation')
                       AND EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.table_name AND p.policyname = 'service_all')
                FROM information_schema.columns c
                JOIN pg_class cl ON cl.relname = c.table_name AND cl.relkind = 'r'
                WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id'
                ORDER BY 1
                """, logger: TestDatabase.logger)
            var tables: [String] = []
            for try await (table, enabled, policy) in rows.decode((String, Bool, Bool).self) {
                tables.append(table)
                #expect(enabled && policy, "\(table) has a tenant_id but no row-level security, or not both policies: a new migration must add them (see 0010 and 0018)")
            }
            #expect(tables.contains("events") && tables.contains("incident_view") && tables.contains("notification_outbox"))
        }
    }
}
