import Foundation
import MDRDomain
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// Tampering as an attacker with database superuser rights would: bypassing the append-only triggers.
func tamper(_ config: DatabaseConfiguration, _ statements: [String]) async throws {
    let connection = try await TestDatabase.connect(config)
    try await connection.query("SET session_replication_role = replica", logger: TestDatabase.logger)
    for sql in statements {
        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger)
    }
    try await connection.close()
}

/// Five events in acme (positions 1…5), two in globex.
func seedChain(_ db: Database) async throws {
    let store = EventStore(database: db)
    for i in 1...5 {
        _ = try await store.append(tenant: acme, events: [event("s\(i % 2)", data: #"{"n": \#(i), "text": "é ü \"quoted\" ✓"}"#)])
    }
    _ = try await store.append(tenant: globex, events: [event("x"), event("y")])
}

@Suite("Hash chain verification")
struct ChainVerifierTests {
    func verify(_ db: Database) async throws -> ChainVerifier.Report {
        try await ChainVerifier(database: db).verify(tenant: acme)
    }

    @Test func aCleanChainIsReportedIntact() async throws {
        try await TestDatabase.withDatabase { db, _ in
            try await seedChain(db)
            let report = try await verify(db)
            #expect(report.isIntact)
            #expect(report.eventsChecked == 5)
            #expect(try await ChainVerifier(database: db).tenants() == [acme, globex])
        }
    }

    @Test func anEditedPayloadIsFoundAtItsPosition() async throws {
        try await TestDatabase.withDatabase { db, config in
            try await seedChain(db)
            try await tamper(config, [#"UPDATE events SET data = jsonb_set(data, '{n}', '99') WHERE tenant_id = 'acme' AND position = 3"#])
            let report = try await verify(db)
            #expect(report.firstBadPosition == 3)
            #expect(report.problem == .hashMismatch)
        }
    }

    @Test func anEditedMetadataOrTypeIsFound() async throws {
        try await TestDatabase.withDatabase { db, config in
            try await seedChain(db)
            try await tamper(config, [#"UPDATE events SET metadata = jsonb_set(metadata, '{actor}', '"someone-else"') WHERE tenant_id = 'acme' AND position = 4"#])
            #expect(try await verify(db).firstBadPosition == 4)
        }
    }

    @Test func aDeletedRowIsFoundAtItsPosition() async throws {
        try await TestDatabase.withDatabase { db, config in
            try await seedChain(db)
            try await tamper(config, ["DELETE FROM events WHERE tenant_id = 'acme' AND position = 2"])
            let report = try await verify(db)
            #expect(report.firstBadPosition == 2)
            #expect(report.problem == .missingPosition)
        }
    }

    @Test func aDeletedLastRowIsFound() async throws {
        try await TestDatabase.withDatabase { db, config in
            try await seedChain(db)
            try await tamper(config, ["DELETE FROM events WHERE tenant_id = 'acme' AND position = 5"])
            let report = try await verify(db)
            #expect(report.firstBadPosition == 5)
            #expect(report.problem == .headMismatch)
        }
    }

    @Test func anInsertedRowIsFoundAtItsPosition() async throws {
        try await TestDatabase.withDatabase { db, config in
            try await seedChain(db)
            // Make room at position 3 and slip in a copy of event 1 with a fresh id, then fix up the head.
            try await tamper(config, [
                "UPDATE events SET position = position + 1000 WHERE tenant_id = 'acme' AND position >= 3",
                "UPDATE events SET position = position - 999 WHERE tenant_id = 'acme' AND position >= 1003",
                """
                INSERT INTO events (tenant_id, position, stream, version, event_id, type, schema_version, data, metadata, recorded_at, hash)
                SELECT tenant_id, 3, 'injected', 1, gen_random_uuid(), type, schema_version, data, metadata, recorded_at, hash
                FROM events WHERE tenant_id = 'acme' AND position = 2
                """,
                "UPDATE tenant_heads SET last_position = 6 WHERE tenant_id = 'acme'",
            ])
            let report = try await verify(db)
            #expect(report.firstBadPosition == 3)
            #expect(report.problem == .hashMismatch)
        }
    }

    @Test func twoSwappedRowsAreFoundAtTheFirst() async throws {
        try await TestDatabase.withDatabase { db, config in
            try await seedChain(db)
            try await tamper(config, [
                "UPDATE events SET position = -2 WHERE tenant_id = 'acme' AND position = 2",
                "UPDATE events SET position = 2 WHERE tenant_id = 'acme' AND position = 4",
                "UPDATE events SET position = 4 WHERE tenant_id = 'acme' AND position = -2",
            ])
            let report = try await verify(db)
            #expect(report.firstBadPosition == 2)
            #expect(report.problem == .hashMismatch)
        }
    }

    @Test func tamperingInOneTenantLeavesTheOthersIntact() async throws {
        try await TestDatabase.withDatabase { db, config in
            try await seedChain(db)
            try await tamper(config, ["DELETE FROM events WHERE tenant_id = 'acme' AND position = 1"])
            #expect(try await verify(db).firstBadPosition == 1)
            #expect(try await ChainVerifier(database: db).verify(tenant: globex).isIntact)
        }
    }
}
