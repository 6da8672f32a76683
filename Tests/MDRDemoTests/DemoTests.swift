import Foundation
import Logging
import MDRDemo
import MDRStore
import MDRTestSupport
import Synchronization
import Testing

/// `mdr demo` against a fresh database: what a new user reads in the narrative is what the service did.
@Suite struct DemoTests {
    @Test func theDemoShowsTheWholeServiceFromOnboardingToTheBillingLine() async throws {
        let lines = Mutex<[String]>([])
        let outputDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mdr-demo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outputDirectory) }
        let summary = try await TestDatabase.withDatabase(migrate: false) { _, configuration in
            try await Demo.run(
                database: configuration, logger: TestDatabase.logger,
                options: Demo.Options(outputDirectory: outputDirectory, environment: [:], waitLimit: .seconds(30))
            ) { line in lines.withLock { $0.append(line) } }
        }
        let text = lines.withLock { $0.joined(separator: "\n") }

        // One incident from the four attack signals (mail, sign-in, endpoint, firewall), confirmed P1 and resolved.
        #expect(summary.incidents == 1)
        #expect(summary.incidentSignals == 4)
        #expect(Set(summary.incidentSources) == ["microsoft365", "endpoint", "firewall"])
        #expect(summary.candidatePriority == "P1")
        #expect(!summary.priorityReasons.isEmpty)
        #expect(summary.priority == "P1")
        #expect(summary.incidentStatus == "resolved")

        // The workstation isolated through (simulated) Defender, then released.
        #expect(summary.isolationStates == ["pending", "isolated", "release_pending", "released"])

        // The noise is counted, not escalated.
        #expect(summary.accepted == 5)
        #expect(summary.duplicates == 1)
        #expect(summary.suppressed == 1)
        #expect(summary.informational == 1)

        // Dynamic got the confirmed P1 over its webhook, signed; every call the receiver got verified.
        let toDynamic = summary.notifications.filter { $0.recipient == "dynamic" && $0.type == "incident.confirmed" }
        #expect(toDynamic.contains { $0.channel == "webhook" && $0.status == "delivered" && $0.signatureVerified })
        #expect(summary.unverifiedWebhooks == 0)
        #expect(!summary.notifications.contains { $0.status == "pending" })

        // Triage, notify and contain were all met (SLA B, P1: 30, 30 and 120 minutes).
        #expect(Set(summary.slaTimers.map(\.target)) == ["triage", "notify", "contain"])
        #expect(summary.slaTimers.allSatisfy { $0.status == "met" })
        #expect(abs((summary.slaTimers.first { $0.target == "contain" }?.targetSeconds ?? 0) - 120 * 60) < 1)

        // 24 workstations at €8.50; the two servers apart.
        #expect(summary.billingStatus == "billable")
        #expect(summary.billedWorkstations == 24)
        #expect(summary.servers == 2)
        #expect(summary.unitPriceCents == 850)
        #expect(summary.amountCents == 24 * 850)

        // The narrative says so.
        #expect(text.contains("incident \(summary.incidentID) opened"))
        #expect(text.contains("confirmed as P1"))
        #expect(text.contains("ws-0042 isolated at"))
        #expect(text.contains("ws-0042 released at"))
        #expect(text.contains("signature verified by the receiver"))
        #expect(text.contains("1 duplicate"))
        #expect(text.contains("1 suppressed"))
        #expect(text.contains("1 informational"))
        #expect(text.contains("triage   met"))
        #expect(text.contains("24 workstations × €8.50 = €204.00"))
        if let report = summary.reportPath {
            #expect(FileManager.default.fileExists(atPath: report))
            #expect(text.contains(report))
        } else {
            #expect(text.contains("/reports/"))
        }
        #expect(summary.duration < .seconds(60))
    }
}
