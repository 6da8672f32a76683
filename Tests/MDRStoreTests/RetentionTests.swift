import Crypto
import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// Retention (docs/audit.md, "Retention"): old security events are archived, their content removed, and the chain
/// stays verifiable through the tombstones, under a signed cut.
@Suite("Retention")
struct RetentionTests {
    let audit = AuditExportTests()
    static let signer = RetentionSigner(base64: RetentionSigner.generate().privateKey)!

    static func archiveDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("retention-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Seeds both tenants, resolves acme's incident, and cuts acme at `now`.
    func seedAndCut(_ db: Database) async throws -> (cut: RetentionCut, archive: URL, headBefore: Int64) {
        let head = try await audit.seedTwoTenants(db)
        let store = EventStore(database: db)
        let incident = try #require(try await audit.openedIncident(store, tenant: acme))
        _ = try await CommandService(store: store).resolveIncident(
            tenant: acme, incident: incident, resolution: "reimaged",
            context: CommandContext(principal: Fixtures.soc, commandID: nil, correlationID: nil))
        let directory = try Self.archiveDirectory()
        let cut = try #require(
            try await RetentionStore(database: db).cut(
                tenant: acme, cutoff: Date().addingTimeInterval(1), policyMonths: 24, archiveDirectory: directory, signer: Self.signer,
                by: "test"))
        return (cut, directory.appendingPathComponent(cut.archiveName), head + 1)
    }

    @Test func aCutRemovesClosedSecurityStreamsAndKeepsWhatLaterCommandsDecideOn() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let (cut, archive, head) = try await seedAndCut(db)
            let store = EventStore(database: db)
            let remaining = try await store.readLog(tenant: acme, after: 0, limit: 100_000)
            let streams = Set(remaining.map(\.stream.rawValue))
            #expect(streams.contains("tenant"))
            #expect(streams.contains { $0.hasPrefix("device:") }, "isolation state is kept")
            #expect(!streams.contains { $0.hasPrefix("signal:") }, "\(streams)")
            #expect(!streams.contains { $0.hasPrefix("incident:") }, "the resolved incident is removed: \(streams)")
            #expect(Int64(remaining.count) + cut.removedCount == head, "every position is either kept or removed")
            #expect(try await store.head(tenant: acme) == head, "positions are never reused")
            // globex is untouched.
            #expect(try await ChainVerifier(database: db).verify(tenant: globex).eventsChecked > 0)
            #expect(try await RetentionStore(database: db).eligibleStreams(tenant: globex, cutoff: Date()).isEmpty == false)

            // The archive holds the removed events with their digests; the cut records its hash.
            let data = try Data(contentsOf: archive)
            #expect(Data(SHA256.hash(data: data)) == cut.archiveSHA256)
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
            #expect(lines.count == Int(cut.removedCount) + 1)
            #expect(lines.first?.contains("mdr-retention-archive/1") == true)
            #expect(lines.dropFirst().allSatisfy { $0.contains("\"digest\": ") && $0.contains("\"data\": ") })

            // Nothing is left to cut at the same cutoff.
            #expect(
                try await RetentionStore(database: db).cut(
                    tenant: acme, cutoff: cut.cutoff, policyMonths: 24, archiveDirectory: archive.deletingLastPathComponent(), signer: Self.signer,
                    by: "test") == nil)
        }
    }

    @Test func theViewsForgetWhatACutRemovedAndKeepTheRest() async throws {
        try await TestDatabase.withDatabase { db, _ in
            try await audit.seedTwoTenants(db)
            let store = EventStore(database: db)
            let incident = try #require(try await audit.openedIncident(store, tenant: acme))
            _ = try await CommandService(store: store).resolveIncident(
                tenant: acme, incident: incident, resolution: "reimaged",
                context: CommandContext(principal: Fixtures.soc, commandID: nil, correlationID: nil))
            let projections = TenantPipeline(ReadModels.standard(), store: store, logger: TestDatabase.logger)
            try await projections.drain()
            func rows(_ table: String, _ tenant: TenantID) async throws -> Int64 {
                var n: Int64 = -1
                for try await value in try await db.client.query(
                    PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table) WHERE tenant_id = '\(tenant.rawValue)'"), logger: TestDatabase.logger
                ).decode(Int64.self) { n = value }
                return n
            }
            for table in ["incident_view", "signal_view", "incident_timeline_view"] {
                #expect(try await rows(table, acme) > 0, "\(table) holds acme's rows before the cut")
            }
            let globexBefore = try await rows("signal_view", globex)
            let statistics = try await rows("signal_statistics_view", acme)

            // Each view (and the outbox) forgets what the cut removed; retention itself writes no table of theirs.
            let owners: [any StreamForgetting] = ReadModels.standard() + [NotificationOutbox(database: db)]
            _ = try await RetentionStore(database: db, forgetting: owners).cut(
                tenant: acme, cutoff: Date().addingTimeInterval(1), policyMonths: 24, archiveDirectory: try Self.archiveDirectory(),
                signer: Self.signer, by: "test")
            for table in ["incident_view", "incident_signal_view", "incident_timeline_view", "sla_incident_view", "sla_timer_view", "signal_view"] {
                #expect(try await rows(table, acme) == 0, "\(table) still holds what the cut removed")
            }
            #expect(try await rows("signal_view", globex) == globexBefore, "another tenant's view is untouched")
            #expect(try await rows("signal_statistics_view", acme) == statistics, "the daily counts stay")
            #expect(try await rows("device_isolation_view", acme) > 0, "the device's state stays")

            // A rebuild from the log gives the same views.
            try await projections.rebuild("incidents")
            #expect(try await rows("incident_view", acme) == 0)
        }
    }

    @Test func theChainStillVerifiesInsideAndOfflineAfterACut() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let (cut, _, head) = try await seedAndCut(db)
            let report = try await ChainVerifier(database: db, retentionPublicKey: Self.signer.publicKey).verify(tenant: acme)
            #expect(report.isIntact, "\(report)")
            #expect(report.eventsChecked == head)
            #expect(report.removedChecked == cut.removedCount)
            #expect(report.cutsChecked == 1)
            #expect(cut.hasValidSignature(publicKey: Self.signer.publicKey))

            // The log goes on after the cut.
            _ = try await CommandService(store: EventStore(database: db)).ingestNativeSignals(
                tenant: acme, body: Fixtures.signalBatch([Fixtures.signal(alert: "after-the-cut")]),
                context: CommandContext(principal: Fixtures.soc, commandID: nil, correlationID: nil))
            #expect(try await ChainVerifier(database: db).verify(tenant: acme).isIntact)

            // An export across the cut verifies offline, the removed events through their digests.
            let (file, header) = try await audit.exportToFile(db, tenant: acme)
            defer { try? FileManager.default.removeItem(at: file) }
            #expect(header.removedCount == cut.removedCount)
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(text.hasPrefix(#"{"format": "mdr-audit-export/2""#))
            let verified = try audit.runVerifier(file)
            #expect(verified.status == 0, "\(verified.output)")
            #expect(verified.output.contains("\(cut.removedCount) removed by retention"), "\(verified.output)")
        }
    }

    @Test func tamperingWithTombstonesOrTheCutIsFound() async throws {
        try await TestDatabase.withDatabase { db, config in
            let (cut, _, _) = try await seedAndCut(db)
            // Another key than the auditor's: refused.
            let stranger = RetentionSigner(base64: RetentionSigner.generate().privateKey)!
            let foreign = try await ChainVerifier(database: db, retentionPublicKey: stranger.publicKey).verify(tenant: acme)
            #expect(foreign.problem == .retentionCut)
            #expect(foreign.firstBadPosition == cut.firstPosition)

            // The cut's record edited (fewer events claimed): its signature no longer verifies.
            try await tamper(config, ["UPDATE retention_cuts SET removed_count = removed_count - 1"])
            #expect(try await ChainVerifier(database: db).verify(tenant: acme).problem == .retentionCut)
        }
        try await TestDatabase.withDatabase { db, config in
            let (cut, _, _) = try await seedAndCut(db)
            // A tombstone's digest swapped: the chain breaks at that position.
            try await tamper(config, ["UPDATE event_tombstones SET digest = sha256('forged') WHERE position = \(cut.lastPosition)"])
            let report = try await ChainVerifier(database: db).verify(tenant: acme)
            #expect(report.firstBadPosition == cut.lastPosition)
            #expect(report.problem == .hashMismatch)
        }
    }

    @Test func onlyACutMayDeleteAndStreamsStillInUseAreKept() async throws {
        try await TestDatabase.withDatabase { db, _ in
            try await audit.seedTwoTenants(db)
            // Outside a cut, the log refuses deletion as before.
            await #expect(throws: (any Error).self) {
                try await db.client.query("DELETE FROM events WHERE tenant_id = 'acme' AND position = 1", logger: TestDatabase.logger)
            }
            let retention = RetentionStore(database: db)
            // Before the signals were recorded: nothing is old enough.
            #expect(try await retention.eligibleStreams(tenant: acme, cutoff: Date(timeIntervalSince1970: 0)).isEmpty)
            // The incident is confirmed but not closed: its stream stays even when old enough; the signals go.
            let eligible = try await retention.eligibleStreams(tenant: acme, cutoff: Date().addingTimeInterval(1))
            #expect(!eligible.isEmpty)
            #expect(eligible.allSatisfy { $0.hasPrefix("signal:") }, "\(eligible)")
        }
    }

    @Test func policiesAndCutoffs() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let retention = RetentionStore(database: db)
            try await retention.setPolicy(tenant: acme, months: 36, by: "test")
            try await retention.setPolicy(tenant: acme, months: 30, by: "test")
            #expect(try await retention.policies() == [acme: 30])
            await #expect(throws: DomainError.self) { try await retention.setPolicy(tenant: acme, months: 0, by: "test") }
        }
        let now = Timestamp.parse("2026-11-29T10:00:00Z")!
        #expect(RetentionStore.cutoff(months: 24, before: now) == Timestamp.parse("2024-11-29T10:00:00Z"))
        #expect(RetentionSigner(base64: "not a key") == nil)
    }

    /// `mdr retention keygen | run`, then `mdr audit verify` with the auditor's public key, as an operator would.
    @Test func theCommandLineCutsAndTheAuditorVerifiesWithThePublicKey() async throws {
        try await TestDatabase.withDatabase { db, config in
            try await audit.seedTwoTenants(db)
            func mdr(_ arguments: [String], env: [String: String] = [:]) throws -> (status: Int32, output: String) {
                try CommandLineRunner.mdr(arguments, database: arguments.starts(with: ["retention", "keygen"]) ? nil : config, environment: env)
            }
            let keys = try mdr(["retention", "keygen"])
            #expect(keys.status == 0, "\(keys.output)")
            var pair: [String: String] = [:]
            for line in keys.output.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { pair[parts[0]] = parts[1] }
            }
            let privateKey = try #require(pair["MDR_RETENTION_SIGNING_KEY"])
            let publicKey = try #require(pair["MDR_RETENTION_PUBLIC_KEY"])
            let directory = try Self.archiveDirectory()

            let noKey = try mdr(["retention", "run", "--archive-dir", directory.path], env: ["MDR_RETENTION_SIGNING_KEY": ""])
            #expect(noKey.status != 0 && noKey.output.contains("MDR_RETENTION_SIGNING_KEY"), "\(noKey.output)")
            let future = try mdr(["retention", "run", "--archive-dir", directory.path, "--before", "2999-01-01"], env: ["MDR_RETENTION_SIGNING_KEY": privateKey])
            #expect(future.status != 0 && future.output.contains("future"), "\(future.output)")

            // Nothing is 24 months old yet.
            let due = try mdr(["retention", "run", "--tenant", "acme", "--archive-dir", directory.path], env: ["MDR_RETENTION_SIGNING_KEY": privateKey])
            #expect(due.status == 0 && due.output.contains("nothing older than"), "\(due.output)")
            let before = Timestamp.format(Date().addingTimeInterval(-0.001))
            let cut = try mdr(
                ["retention", "run", "--tenant", "acme", "--archive-dir", directory.path, "--before", before],
                env: ["MDR_RETENTION_SIGNING_KEY": privateKey])
            #expect(cut.status == 0 && cut.output.contains("tenant acme: removed"), "\(cut.output)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".jsonl") }.count == 1)

            let verified = try mdr(["audit", "verify", "--retention-public-key", publicKey])
            #expect(verified.status == 0 && verified.output.contains("removed by 1 retention cut"), "\(verified.output)")
            let stranger = RetentionSigner.generate().publicKey
            let refused = try mdr(["audit", "verify", "--tenant", "acme", "--retention-public-key", stranger])
            #expect(refused.status == 1 && refused.output.contains("retention cut"), "\(refused.output)")
            let listed = try mdr(["retention", "list"])
            #expect(listed.output.contains("acme") && listed.output.contains("signature valid"), "\(listed.output)")
        }
    }
}
