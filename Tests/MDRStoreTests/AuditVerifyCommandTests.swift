import Foundation
import MDRStore
import MDRTestSupport
import Testing

/// `mdr audit verify` as an operator runs it: the built binary against a real database.
struct BinaryMissing: Error, CustomStringConvertible {
    var description: String { "the mdr binary is not built: run `swift build --build-tests` (ops/test does)" }
}

@Suite("mdr audit verify")
struct AuditVerifyCommandTests {
    /// The `mdr` binary of this build (`swift build --build-tests` builds it beside the tests).
    static var binary: URL {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let candidates = [".build/debug/mdr", ".build/release/mdr"].map { root.appendingPathComponent($0) }
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
                throw BinaryMissing()
            }
            return found
        }
    }

    func run(_ arguments: [String], database: DatabaseConfiguration) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = try Self.binary
        process.arguments = arguments + ["--database-url", "postgres://\(database.username)@\(database.host):\(database.port)/\(database.database)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
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
