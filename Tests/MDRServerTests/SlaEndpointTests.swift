import Foundation
import HTTPTypes
import MDRApplication
import MDRDomain
import MDRProjections
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// The SLA dashboards: an incident's timers and NIS2 deadlines, the "about to breach" list, and monthly compliance
/// per tenant and across tenants; with tenant isolation.
@Suite struct SlaEndpointTests {
    /// The current month on the Amsterdam calendar, as the service counts it.
    var month: String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Amsterdam")!
        let parts = calendar.dateComponents([.year, .month], from: Date())
        return String(format: "%04d-%02d", parts.year!, parts.month!)
    }

    func timers(_ reply: Reply, _ key: String = "timers") -> [[String: Any]] { reply.json[key] as? [[String: Any]] ?? [] }

    @Test func aConfirmedP1ShowsItsTimersNis2DeadlinesAndTheMonthsCompliance() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            try await api.onboard("other-co")
            let incident = try await api.openIncident("acme-bv", device: "ws-0042", alert: "a-1")
            let otherIncident = try await api.openIncident("other-co", device: "srv-7", alert: "o-1")
            let soc = try await api.token(.soc)
            let confirmed = try await api.post(
                "/v1/tenants/acme-bv/incidents/\(incident)/confirm", token: soc, ["priority": "P1", "summary": "ransomware"])
            #expect(confirmed.status == .ok, "\(confirmed.text)")
            try await TenantPipeline(ReadModels.standard(), store: api.services.store, logger: TestDatabase.logger).drain()

            // The incident: triage met by the confirmation; notify and contain running (SLA A: 15 and 60 minutes).
            let customer = try await api.token(.customer, "acme-bv")
            let sla = try await api.get("/v1/tenants/acme-bv/incidents/\(incident)/sla", token: customer)
            #expect(sla.status == .ok, "\(sla.text)")
            let byTarget = Dictionary(uniqueKeysWithValues: timers(sla).map { ($0["target"] as? String ?? "?", $0) })
            #expect(Set(byTarget.keys) == ["triage", "notify", "contain"])
            #expect(byTarget["triage"]?["status"] as? String == "met")
            #expect(byTarget["triage"]?["stoppedBy"] as? String == "confirmed")
            #expect(byTarget["contain"]?["status"] as? String == "running")
            #expect(byTarget["contain"]?["sla"] as? String == "A")
            let remaining = try #require(byTarget["contain"]?["remainingSeconds"] as? Double)
            #expect(remaining > 55 * 60 && remaining <= 60 * 60)
            #expect(byTarget["notify"]?["link"] as? String == "/v1/tenants/acme-bv/incidents/\(incident)")
            let nis2 = try #require(sla.json["nis2"] as? [String: Any], "the tenant is in NIS2 scope")
            let aware = try #require((nis2["awareAt"] as? String).flatMap(Timestamp.parse))
            let early = try #require((nis2["earlyWarning"] as? String).flatMap(Timestamp.parse))
            #expect(early.timeIntervalSince(aware) == 24 * 3600)

            // The SOC's list: running timers across tenants, nearest deadline first.
            let running = try await api.get("/v1/sla/timers", token: soc)
            #expect(running.status == .ok, "\(running.text)")
            let deadlines = timers(running).compactMap { ($0["deadline"] as? String).flatMap(Timestamp.parse) }
            #expect(deadlines == deadlines.sorted())
            #expect(timers(running).contains { $0["incidentId"] as? String == otherIncident && $0["target"] as? String == "triage" })
            let acmeOnly = try await api.get("/v1/sla/timers?tenant=acme-bv", token: soc)
            #expect(timers(acmeOnly).allSatisfy { $0["tenantId"] as? String == "acme-bv" })
            #expect(timers(acmeOnly).compactMap { $0["target"] as? String }.sorted() == ["contain", "notify"])

            // The month: one triage decided and met for acme-bv; across tenants the other tenant's triage still runs.
            let tenantReport = try await api.get("/v1/tenants/acme-bv/sla/compliance?month=\(month)", token: customer)
            #expect(tenantReport.status == .ok, "\(tenantReport.text)")
            let triage = try #require(tenantReport.json["triage"] as? [String: Any])
            #expect(triage["decided"] as? Int == 1)
            #expect(triage["met"] as? Int == 1)
            #expect(triage["shareMet"] as? Double == 1)
            #expect((tenantReport.json["breaches"] as? [Any])?.isEmpty == true)
            let dynamic = try await api.token(.dynamic)
            let all = try await api.get("/v1/sla/compliance?month=\(month)&sla=A", token: dynamic)
            #expect(all.status == .ok, "\(all.text)")
            #expect((all.json["triage"] as? [String: Any])?["running"] as? Int == 1)
            #expect(all.json["tenantId"] == nil)
            let lastYear = try await api.get("/v1/sla/compliance?month=2025-01", token: dynamic)
            #expect((lastYear.json["triage"] as? [String: Any])?["decided"] as? Int == 0)
        }
    }

    @Test func anotherTenantsSlaIsNotFoundAndTheCrossTenantDashboardsAreForbidden() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            try await api.onboard("other-co")
            let incident = try await api.openIncident("acme-bv")
            let other = try await api.token(.customer, "other-co")
            for path in ["/v1/tenants/acme-bv/incidents/\(incident)/sla", "/v1/tenants/acme-bv/sla/compliance?month=\(month)"] {
                expectProblem(try await api.get(path, token: other), .notFound, "tenant_not_found", "\(path)")
            }
            expectProblem(try await api.get("/v1/tenants/other-co/incidents/\(incident)/sla", token: other), .notFound, "incident_not_found")
            expectProblem(try await api.get("/v1/sla/timers", token: other), .forbidden, "forbidden")
            expectProblem(try await api.get("/v1/sla/compliance?month=\(month)", token: other), .forbidden, "forbidden")
            let connector = try await api.token(.connector, "acme-bv")
            expectProblem(try await api.get("/v1/tenants/acme-bv/sla/compliance?month=\(month)", token: connector), .forbidden, "forbidden")
            let soc = try await api.token(.soc)
            #expect(try await api.get("/v1/sla/compliance?month=2026-13", token: soc).status == .badRequest)
            #expect(try await api.get("/v1/sla/compliance?month=november", token: soc).status == .badRequest)
            #expect(try await api.get("/v1/sla/compliance", token: soc).status == .badRequest)
            #expect(try await api.get("/v1/sla/timers?limit=0", token: soc).status == .badRequest)
            expectProblem(try await api.get("/v1/tenants/no-such-co/sla/compliance?month=\(month)", token: soc), .notFound, "tenant_not_found")
        }
    }
}
