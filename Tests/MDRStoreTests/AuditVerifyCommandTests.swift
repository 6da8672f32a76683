import Foundation
import MDRStore
import MDRTestSupport
import Testing

/// `mdr audit verify` as an operator runs it: the built binary against a real database.
@Suite("mdr audit verify")
struct AuditVerifyCommandTests {
    func run(_ arguments: [String], database: DatabaseConfiguration) throws -> (status: Int32, output: String) {
        try CommandLineRunner.mdr(arguments, database: database)
    }

    @Test func reportsACleanChainAndExitsZero() async throws {
        try await TestDatabase.withDatabase { db, config in
            try await seedChain(db)
            let (status, output) = try run(["audit", "verify"], database: config)
            #expect(status == 0)
            #expect(output.contains("tenant acme: 5 events, chain intact"))
            #expect(output.contains("tenant globex: 2 events, chain intact"))
        }
    }

    @Test func reportsTheFirstBadPositionAndExitsOne() async throws {
        try await TestDatabase.withDatabase { db, config in
            try await seedChain(db)
            try await tamper(config, [#"UPDATE events SET data = '{"n": 0}' WHERE tenant_id = 'acme' AND position = 3"#])
            let (status, output) = try run(["audit", "verify"], database: config)
            #expect(status == 1)
            #expect(output.contains("tenant acme: first bad position 3: hash mismatch"))
            #expect(output.contains("tenant globex: 2 events, chain intact"))
            let only = try run(["audit", "verify", "--tenant", "globex"], database: config)
            #expect(only.status == 0)
        }
    }
}
