import Foundation
import MDRApplication
import MDRDomain
import MDRStore
import MDRTestSupport
import Testing

@Suite("Suppression rules against the event log")
struct SuppressionServiceTests {
    @Test func aSuppressedSignalIsStoredAndCountedButOpensNoIncident() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            try await h.onboard()
            let rule = try await h.commands.addSuppressionRule(
                tenant: acme, match: SuppressionMatch(device: DeviceID(rawValue: "ws-0042")!), reason: "admin test machine", expiresAt: nil,
                context: h.context())
            let report = try await h.ingest([Fixtures.signal(alert: "a1"), Fixtures.signal(alert: "b1", device: "ws-0007")]).result
            #expect(report.items.map(\.outcome) == [.suppressed, .accepted])
            #expect(report.suppressed == 1)
            #expect(report.accepted == 1)
            try await h.processor.drain()
            let incidents = try await h.incidents()
            #expect(incidents.count == 1)
            #expect(incidents.first?.devices == [DeviceID(rawValue: "ws-0007")!])
            // The suppressed signal is in the log, marked with the rule.
            let stored = try await h.store.readLog(tenant: acme, after: 0, limit: 100, types: [SignalIngested.eventType])
            let marks = try stored.map { e -> UUID? in
                guard case .signalIngested(let s) = try e.decoded() else { return nil }
                return s.suppressedBy
            }
            #expect(marks == [rule.result.id, nil])

            // Expired, the rule suppresses no later signal.
            h.time.advance(by: 60)
            _ = try await h.commands.expireSuppressionRule(tenant: acme, rule: rule.result.id, context: h.context())
            let later = try await h.ingest([Fixtures.signal(alert: "a2")]).result
            #expect(later.items.map(\.outcome) == [.accepted])
            try await h.processor.drain()
            let incidentCount = try await h.incidents().count
            #expect(incidentCount == 2)
            let rules = try #require(try await h.queries.suppressionRules(acme))
            #expect(rules.map(\.id) == [rule.result.id])
            #expect(rules.first?.expiredBy == Fixtures.soc.id)
        }
    }

    @Test func aRuleAddedByAnotherInstanceAppliesToTheNextIngestWithoutRereadingTheWholeStreams() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            try await h.onboard()
            // This instance has folded the tenant and its (empty) rules.
            _ = try await h.ingest([Fixtures.signal(alert: "warm", device: "ws-1")])
            // Another instance (a service of its own, with its own memory) adds a rule.
            let other = CommandService(store: EventStore(database: db), time: h.time)
            _ = try await other.addSuppressionRule(
                tenant: acme, match: SuppressionMatch(device: DeviceID(rawValue: "ws-0042")!), reason: "admin test machine", expiresAt: nil,
                context: h.context())
            // The next ingest here reads only what came after its fold: the rule applies, and neither stream is decoded
            // again (only the rule, the one new event of them).
            let counter = EventDecodeCounter()
            let report = try await counter.count { try await h.ingest([Fixtures.signal(alert: "a1"), Fixtures.signal(alert: "b1", device: "ws-7")]).result }
            #expect(report.items.map(\.outcome) == [.suppressed, .accepted])
            #expect(counter.count == 1, "the new rule only; not the tenant's onboarding again")
            // And again: nothing of the two streams is read.
            let again = EventDecodeCounter()
            _ = try await again.count { try await h.ingest([Fixtures.signal(alert: "c1", device: "ws-8")]) }
            #expect(again.count == 0)
        }
    }

    @Test func suppressionRulesOfAnUnknownTenantAreRefused() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            await expectRefusal(.tenantNotFound) {
                _ = try await h.commands.addSuppressionRule(
                    tenant: acme, match: SuppressionMatch(ip: "10.0.0.1"), reason: "scanner", expiresAt: nil, context: h.context())
            }
            let none = try await h.queries.suppressionRules(acme)
            #expect(none == nil)
        }
    }
}
