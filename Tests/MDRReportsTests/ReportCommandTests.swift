import Foundation
import MDRDomain
import MDRReports
import MDRStore
import MDRTestSupport
import Testing

/// `mdr report` as an operator runs it: the built binary against a real database.
@Suite struct ReportCommandTests {
    func run(_ arguments: [String], database: DatabaseConfiguration) throws -> (status: Int32, output: String) {
        try CommandLineRunner.mdr(["report"] + arguments, database: database)
    }

    @Test func writesTheMonthsReportAsJSONAndHTML() async throws {
        try await TestDatabase.withDatabase { db, config in
            _ = try await ReportDatabaseTests.november(ReportDatabaseTests.World(db))
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mdr-report-cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }

            let json = folder.appendingPathComponent("acme.json")
            let written = try run(["--tenant", "acme", "--month", "2026-11", "--out", json.path], database: config)
            #expect(written.status == 0, "\(written.output)")
            #expect(written.output.contains("wrote the json report of tenant acme for 2026-11-01 … 2026-11-30"))
            let report = try JSONCoding.decoder().decode(TenantReport.self, from: Data(contentsOf: json))
            #expect(report.signals.received == 6 && report.incidents.confirmed == 1)

            let html = folder.appendingPathComponent("acme.html")
            let page = try run(["--tenant", "acme", "--from", "2026-11-29", "--to", "2026-11-30", "--out", html.path], database: config)
            #expect(page.status == 0, "\(page.output)")
            let text = try String(contentsOf: html, encoding: .utf8)
            #expect(text.contains("29 November 2026 – 30 November 2026") && text.contains("Tenant acme"))
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)) == ["acme.json", "acme.html"])
        }
    }

    @Test func badInputIsAClearMessageAndANonZeroExit() async throws {
        try await TestDatabase.withDatabase { db, config in
            _ = try await ReportDatabaseTests.november(ReportDatabaseTests.World(db))
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("mdr-report-\(UUID().uuidString).html").path
            let cases: [([String], String)] = [
                (["--tenant", "acme", "--month", "2026-13", "--out", out], "'2026-13' is not a month"),
                (["--tenant", "acme", "--month", "2026-11", "--from", "2026-11-01", "--to", "2026-11-02", "--out", out], "not both"),
                (["--tenant", "acme", "--from", "2026-11-01", "--out", out], "from and to go together"),
                (["--tenant", "acme", "--month", "2026-11", "--format", "pdf", "--out", out], "--format 'pdf' is not html or json"),
                (["--tenant", "nobody", "--month", "2026-11", "--out", out], "tenant_not_found"),
                (["--tenant", "acme", "--month", "2026-11", "--out", "/nonexistent-folder/r.html"], "cannot write /nonexistent-folder/r.html"),
            ]
            for (arguments, message) in cases {
                let (status, output) = try run(arguments, database: config)
                #expect(status != 0, "\(arguments): \(output)")
                #expect(output.contains(message), "\(arguments): \(output)")
            }
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }
}
