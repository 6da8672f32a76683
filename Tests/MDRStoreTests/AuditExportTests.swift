import Foundation
import MDRApplication
import MDRDomain
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// `mdr audit export` and the auditor's offline check, `ops/verify-audit-export.py`, against a real log.
@Suite("Audit export")
struct AuditExportTests {
    static let root = CommandLineRunner.repositoryRoot
    static let verifier = root.appendingPathComponent("ops/verify-audit-export.py")

    /// Two tenants with a realistic log: onboarding, signals (native, Graph-shaped content kept out), incidents
    /// opened by the correlator, a confirmation and an isolation of acme's device. Returns acme's head position.
    @discardableResult
    func seedTwoTenants(_ db: Database) async throws -> Int64 {
        let store = EventStore(database: db)
        let commands = CommandService(store: store)
        let correlator = TenantPipeline([ProcessManager(CorrelationProcessor())], store: store, logger: TestDatabase.logger)
        func context(_ principal: Principal = Fixtures.soc, _ key: String? = nil) -> CommandContext {
            CommandContext(principal: principal, commandID: key, correlationID: key.map { "corr-\($0)" })
        }
        _ = try await commands.onboardTenant(Fixtures.onboard("acme"), context: context(Fixtures.dynamic, "onboard-acme"))
        _ = try await commands.onboardTenant(Fixtures.onboard("globex"), context: context(Fixtures.dynamic, "onboard-globex"))
        _ = try await commands.ingestNativeSignals(
            tenant: acme,
            body: Fixtures.signalBatch([
                Fixtures.signal(alert: "acme-a1", users: ["anna@acme.example"], ips: ["10.0.0.42"]),
                Fixtures.signal(alert: "acme-a2", severity: "medium"),
            ]), context: context(Fixtures.soc, "ingest-acme-1"))
        _ = try await commands.ingestNativeSignals(
            tenant: globex, body: Fixtures.signalBatch([Fixtures.signal(alert: "globex-only-alert-5521", device: "gx-9001")]),
            context: context(Fixtures.soc, "ingest-globex-1"))
        try await correlator.drain()
        let incident = try #require(try await openedIncident(store, tenant: acme))
        _ = try await commands.confirmIncident(
            tenant: acme, incident: incident, priority: .p1, summary: "ransomware on ws-0042 — “quoted” ✓",
            context: context(Fixtures.soc, "confirm-1"))
        _ = try await commands.isolateDevice(
            tenant: acme, device: DeviceID(rawValue: "ws-0042")!, incident: incident, type: .full, comment: "stop the encryption",
            context: context(Fixtures.soc, "isolate-1"))
        _ = try await commands.ingestNativeSignals(
            tenant: acme, body: Fixtures.signalBatch([Fixtures.signal(alert: "acme-a3", severity: "low")]),
            context: context(Fixtures.soc, "ingest-acme-2"))
        try await correlator.drain()
        return try await store.readLog(tenant: acme, after: 0, limit: 100_000).last?.position ?? 0
    }

    func openedIncident(_ store: EventStore, tenant: TenantID) async throws -> IncidentID? {
        for e in try await store.readLog(tenant: tenant, after: 0, limit: 100_000) where e.type == IncidentOpened.eventType {
            if case .incidentOpened(let opened) = try e.decoded() { return opened.incidentID }
        }
        return nil
    }

    func exportToFile(_ db: Database, tenant: TenantID, from: Date? = nil, to: Date? = nil) async throws -> (URL, AuditExport.Header) {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).jsonl")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        // A small page size, so that the export crosses pages.
        let header = try await AuditExport(database: db, pageSize: 4).export(tenant: tenant, from: from, to: to) { chunk in
            try handle.write(contentsOf: Data(chunk.utf8))
        }
        try handle.close()
        return (url, header)
    }

    func runVerifier(_ file: URL) throws -> (status: Int32, output: String) {
        try CommandLineRunner.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", Self.verifier.path, file.path])
    }

    func runMDR(_ arguments: [String], _ config: DatabaseConfiguration) throws -> (status: Int32, output: String) {
        try CommandLineRunner.mdr(arguments, database: config)
    }

    func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.isEmpty }
    }

    func json(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func aTenantsExportVerifiesOfflineAndHoldsNoOtherTenant() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let head = try await seedTwoTenants(db)
            let (file, header) = try await exportToFile(db, tenant: acme)
            defer { try? FileManager.default.removeItem(at: file) }
            #expect(header.firstPosition == 1 && header.lastPosition == head && header.eventCount == head)

            let all = try lines(file)
            #expect(all.count == Int(head) + 1)
            let first = try json(all[0])
            #expect(first["format"] as? String == "mdr-audit-export/1")
            #expect(first["tenant"] as? String == "acme")
            #expect(first["anchor_hash"] as? String == String(repeating: "0", count: 64))
            #expect(first["first_position"] as? Int == 1 && first["last_position"] as? Int == Int(head))
            // Every kind of event of the scenario, with who, on whose behalf and why.
            let events = try all.dropFirst().map(json)
            let types = Set(events.compactMap { $0["type"] as? String })
            for type in ["TenantOnboarded", "SignalIngested", "IncidentOpened", "IncidentConfirmed", "DeviceIsolationRequested"] {
                #expect(types.contains(type), "no \(type) in the export")
            }
            #expect(events.map { $0["position"] as? Int } == (1...Int(head)).map { $0 })
            let confirmed = try #require(events.first { $0["type"] as? String == "IncidentConfirmed" })
            let metadata = try #require(confirmed["metadata"] as? [String: Any])
            #expect(metadata["actor"] as? String == Fixtures.soc.id)
            #expect(metadata["actorName"] as? String == Fixtures.soc.name)
            #expect(metadata["role"] as? String == "soc")
            #expect(metadata["commandID"] as? String == "confirm-1")
            #expect(metadata["correlationID"] as? String == "corr-confirm-1")
            #expect(events.allSatisfy { $0["tenant"] as? String == "acme" })
            // The export's last hash is the stored head of the chain.
            #expect(events.last?["hash"] as? String == first["last_hash"] as? String)

            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(!text.contains("globex"))
            #expect(!text.contains("gx-9001"))

            let (status, output) = try runVerifier(file)
            #expect(status == 0, "\(output)")
            #expect(output.hasPrefix("OK: tenant acme, positions 1-\(head), \(head) events"), "\(output)")
        }
    }

    @Test func aFlippedCharacterOrAMissingLineIsFoundAtItsLine() async throws {
        try await TestDatabase.withDatabase { db, _ in
            try await seedTwoTenants(db)
            let (file, _) = try await exportToFile(db, tenant: acme)
            defer { try? FileManager.default.removeItem(at: file) }
            let original = try lines(file)

            // One character of one payload: ws-0042 becomes ws-0043 in the data of a signal.
            let index = try #require(original.indices.first { original[$0].contains("\"type\": \"SignalIngested\"") })
            let line = original[index]
            let dataStart = try #require(line.range(of: "\"data\": "))
            let device = try #require(line.range(of: "ws-0042", range: dataStart.upperBound..<line.endIndex))
            var flipped = original
            flipped[index] = line.replacingCharacters(in: device, with: "ws-0043")
            #expect(flipped[index].count == line.count)
            try (flipped.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            var (status, output) = try runVerifier(file)
            #expect(status == 1, "\(output)")
            #expect(output.contains("BROKEN line \(index + 1) "), "\(output)")
            #expect(output.contains("hash mismatch"), "\(output)")

            // A line removed from the middle: the next line's position gives it away.
            var shortened = original
            shortened.remove(at: 3)
            try (shortened.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            (status, output) = try runVerifier(file)
            #expect(status == 1, "\(output)")
            #expect(output.contains("BROKEN line 4: position 4 where 3 was expected"), "\(output)")

            // The last line cut off: the header's count gives it away.
            try (original.dropLast().joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            (status, output) = try runVerifier(file)
            #expect(status == 1, "\(output)")
            #expect(output.contains("truncated"), "\(output)")

            // And the untouched file still verifies (the test could pass only by breaking everything).
            try (original.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            #expect(try runVerifier(file).status == 0)
        }
    }

    @Test func aPartialRangeVerifiesFromItsAnchor() async throws {
        try await TestDatabase.withDatabase { db, config in
            let head = try await seedTwoTenants(db)
            // The distinct commit times of acme's log, with the first position of each, exact to the microsecond.
            let rows = try await db.client.query(
                """
                SELECT min(position), to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                FROM events WHERE tenant_id = 'acme' GROUP BY recorded_at ORDER BY 1
                """, logger: TestDatabase.logger)
            var commits: [(position: Int64, at: String)] = []
            for try await (position, at) in rows.decode((Int64, String).self) { commits.append((position, at)) }
            try #require(commits.count >= 4)
            // From the second commit up to (not including) the last one.
            let from = commits[1], to = commits[commits.count - 1]

            let out = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).jsonl")
            defer { try? FileManager.default.removeItem(at: out) }
            let (status, output) = try runMDR(
                ["audit", "export", "--tenant", "acme", "--from", from.at, "--to", to.at, "--out", out.path], config)
            #expect(status == 0, "\(output)")
            let summary = "exported \(to.position - from.position) events of tenant acme (positions \(from.position)–\(to.position - 1))"
            #expect(output.contains(summary), "\(output)")

            let all = try lines(out)
            let header = try json(all[0])
            #expect(header["first_position"] as? Int == Int(from.position))
            #expect(header["last_position"] as? Int == Int(to.position - 1))
            #expect(to.position - 1 < head)
            let stored = try #require(try await AuditExport(database: db).export(tenant: acme, to: Timestamp.parse(from.at)) { _ in }.lastHash)
            #expect(header["anchor_hash"] as? String == AuditExport.hex(stored))
            #expect(header["anchor_hash"] as? String != String(repeating: "0", count: 64))
            #expect(header["from"] as? String == from.at && header["to"] as? String == to.at)
            #expect(all.count == Int(to.position - from.position) + 1)

            let verified = try runVerifier(out)
            #expect(verified.status == 0, "\(verified.output)")
            #expect(verified.output.hasPrefix("OK: tenant acme, positions \(from.position)-\(to.position - 1)"), "\(verified.output)")

            // A range with no event: a header and nothing else, which verifies.
            let empty = try await exportToFile(db, tenant: acme, from: Date().addingTimeInterval(3600))
            defer { try? FileManager.default.removeItem(at: empty.0) }
            #expect(empty.1.eventCount == 0 && empty.1.firstPosition == nil)
            #expect(try runVerifier(empty.0).output.hasPrefix("OK: tenant acme, no events"))
        }
    }

    @Test func theScriptShownToAuditorsIsTheScriptThatIsTested() throws {
        let doc = try String(contentsOf: Self.root.appendingPathComponent("docs/audit.md"), encoding: .utf8)
        let script = try String(contentsOf: Self.verifier, encoding: .utf8)
        let opening = try #require(doc.range(of: "The script, in full"))
        let code = try #require(doc.range(of: "```python\n", range: opening.upperBound..<doc.endIndex))
        let closing = try #require(doc.range(of: "```\n", range: code.upperBound..<doc.endIndex))
        #expect(String(doc[code.upperBound..<closing.lowerBound]) == script, "docs/audit.md shows another script than ops/verify-audit-export.py")
    }

    @Test func badInputIsRefusedWithAClearMessageAndNoFile() async throws {
        try await TestDatabase.withDatabase { db, config in
            try await seedTwoTenants(db)
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).jsonl")
            defer { try? FileManager.default.removeItem(at: out) }

            var (status, output) = try runMDR(["audit", "export", "--tenant", "initech", "--out", out.path], config)
            #expect(status != 0)
            #expect(output.contains("tenant_not_found: tenant 'initech' has no event log"), "\(output)")
            #expect(!FileManager.default.fileExists(atPath: out.path))

            (status, output) = try runMDR(["audit", "export", "--tenant", "acme", "--from", "yesterday"], config)
            #expect(status != 0)
            #expect(output.contains("--from 'yesterday' is not a time"), "\(output)")

            (status, output) = try runMDR(["audit", "export", "--tenant", "acme", "--to", "2026-02-30"], config)
            #expect(status != 0)
            #expect(output.contains("--to '2026-02-30' is not a time"), "\(output)")

            (status, output) = try runMDR(["audit", "export", "--tenant", "acme", "--from", "2026-11-02", "--to", "2026-11-01T00:00:00Z"], config)
            #expect(status != 0)
            #expect(output.contains("is after --to"), "\(output)")

            (status, output) = try runMDR(["audit", "export", "--tenant", "Not A Tenant"], config)
            #expect(status != 0)
            #expect(!output.contains("mdr-audit-export/1"))

            await #expect(throws: DomainError.self) {
                try await AuditExport(database: db).export(tenant: acme, from: Date(), to: Date().addingTimeInterval(-1)) { _ in }
            }

            // Standard output by default: the header first.
            (status, output) = try runMDR(["audit", "export", "--tenant", "globex"], config)
            #expect(status == 0, "\(output)")
            #expect(output.hasPrefix("{\"format\": \"mdr-audit-export/1\", \"tenant\": \"globex\""), "\(output)")
            #expect(!output.contains("\"tenant\": \"acme\""))
        }
    }
}
