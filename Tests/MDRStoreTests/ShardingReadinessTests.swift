import Foundation
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// Whether the schema could be sharded by tenant (Citus: distribution column `tenant_id`, tables co-located by it),
/// checked on every key and foreign key of the migrated schema (docs/operations.md, "Sharding by tenant"). A table
/// added later that breaks a rule fails here until it follows the rule or is listed, with its reason, below.
@Suite struct ShardingReadinessTests {
    /// Tables with no tenant, or looked up across tenants by another key: Citus reference tables (a copy on every
    /// node), small and rarely written.
    static let reference: Set<String> = [
        "schema_migrations", "projection_versions",
        // Looked up by the token's hash before the tenant is known; soc and dynamic tokens have no tenant.
        "api_tokens",
        // Looked up by the sender's address before the tenant is known.
        "syslog_senders",
        // Dynamic's and customers' receivers, by URL.
        "webhook_endpoints",
    ]

    /// Tenant tables whose keys do not lead with the tenant yet, and what would change (docs/operations.md).
    static let notYetReady: [String: String] = [
        "notification_outbox": "primary key notification_id: becomes (tenant_id, notification_id), ON CONFLICT with it",
        "retention_cuts": "primary key cut_id: becomes (tenant_id, cut_id)",
        "event_tombstones": "foreign key cut_id → retention_cuts: gains tenant_id once retention_cuts' key does",
    ]

    struct Key: Sendable {
        var table: String
        var kind: String
        var name: String
        var columns: [String]
        var references: String?
        var referencedColumns: [String]
    }

    static func keys(_ db: Database) async throws -> [Key] {
        let rows = try await db.client.query(
            """
            SELECT con.conrelid::regclass::text, con.contype::text, con.conname::text,
                   (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(att, ord)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.att),
                   nullif(con.confrelid, 0)::regclass::text,
                   coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(att, ord)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.att), '{}')
            FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
            WHERE n.nspname = 'public' AND con.contype IN ('p', 'u', 'f')
            UNION ALL
            -- Unique indexes that no constraint stands for.
            SELECT i.indrelid::regclass::text, 'u', i.indexrelid::regclass::text,
                   (SELECT array_agg(a.attname::text) FROM unnest(i.indkey) k(att) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.att),
                   NULL, '{}'
            FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND i.indisunique AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)
            """, logger: TestDatabase.logger)
        var keys: [Key] = []
        for try await (table, kind, name, columns, references, referenced) in rows.decode((String, String, String, [String]?, String?, [String]).self) {
            keys.append(Key(table: table, kind: kind, name: name, columns: columns ?? [], references: references, referencedColumns: referenced))
        }
        return keys
    }

    static func tables(_ db: Database) async throws -> [String: Bool?] {
        let rows = try await db.client.query(
            """
            SELECT c.relname::text, (SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
            """, logger: TestDatabase.logger)
        var tables: [String: Bool?] = [:]
        for try await (name, notNull) in rows.decode((String, Bool?).self) { tables.updateValue(notNull, forKey: name) }
        return tables
    }

    @Test func everyTenantTableIsKeyedByTheTenantAndEveryOtherIsAReferenceTable() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let tables = try await Self.tables(db)
            let keys = try await Self.keys(db)
            #expect(tables.count >= 20, "the schema was read: \(tables.keys.sorted())")
            var violations: [String: [String]] = [:]
            for (table, tenant) in tables.sorted(by: { $0.key < $1.key }) where !Self.reference.contains(table) {
                // A distributed table: tenant_id, never null.
                guard let notNull = tenant else {
                    violations[table, default: []].append("no tenant_id column: make it a reference table or add one")
                    continue
                }
                if notNull != true { violations[table, default: []].append("tenant_id may be null") }
                for key in keys where key.table == table {
                    switch key.kind {
                    case "p", "u":
                        // Citus: a primary or unique key of a distributed table contains the distribution column.
                        if !key.columns.contains("tenant_id") { violations[table, default: []].append("\(key.name) \(key.columns) lacks tenant_id") }
                    default:
                        // A foreign key to another tenant table is co-located: tenant_id on both sides, in the same place.
                        guard let target = key.references, !Self.reference.contains(target) else { continue }
                        let position = key.columns.firstIndex(of: "tenant_id")
                        if position == nil || position != key.referencedColumns.firstIndex(of: "tenant_id") {
                            violations[table, default: []].append("\(key.name) to \(target) is not by tenant_id")
                        }
                    }
                }
            }
            // A reference table may not point at a tenant table (it would need every shard).
            for key in keys where key.kind == "f" && Self.reference.contains(key.table) {
                if let target = key.references, !Self.reference.contains(target) {
                    violations[key.table, default: []].append("reference table \(key.name) points at tenant table \(target)")
                }
            }
            #expect(Set(violations.keys) == Set(Self.notYetReady.keys), "violations: \(violations)")
        }
    }
}
