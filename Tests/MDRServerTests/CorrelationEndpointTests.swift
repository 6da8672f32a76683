import Foundation
import HTTPTypes
import MDRApplication
import MDRDomain
import MDRProjections
import MDRServer
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// Correlation through the API (issue 15): the correlator merges candidates that a signal links, the SOC merges by
/// command (the views, the SLA timers and the refusals follow), and the SOC tunes a tenant's opening thresholds.
@Suite struct CorrelationEndpointTests {
    /// The correlator, then every view, over the tenant's log.
    static func drain(_ api: APIWorld) async throws {
        try await TenantPipeline([ProcessManager(CorrelationProcessor())] + ReadModels.standard(), store: api.services.store, logger: TestDatabase.logger)
            .drain()
    }

    static func ingest(_ api: APIWorld, _ tenant: String, _ signals: [[String: Any]]) async throws {
        let connector = try await api.token(.connector, tenant)
        let reply = try await api.post("/v1/tenants/\(tenant)/signals", token: connector, ["signals": signals])
        #expect(reply.status == .ok, "\(reply.text)")
    }

    func incidents(_ api: APIWorld, _ tenant: String) async throws -> [[String: Any]] {
        let soc = try await api.token(.soc)
        let reply = try await api.get("/v1/tenants/\(tenant)/incidents", token: soc)
        #expect(reply.status == .ok, "\(reply.text)")
        return (reply.json["incidents"] as? [[String: Any]] ?? []).sorted { ($0["openedAt"] as? String ?? "") < ($1["openedAt"] as? String ?? "") }
    }

    @Test func aSignalLinkingTwoCandidatesMergesThemAndTheViewsAndTimersFollow() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            try await Self.ingest(api, "acme-bv", [Fixtures.signal(alert: "signin", device: nil, severity: "medium", source: "microsoft365", users: ["anna@acme-bv.example"])])
            try await Self.drain(api)
            try await Self.ingest(api, "acme-bv", [Fixtures.signal(alert: "malware", device: "ws-0042", observedAt: "2026-11-29T10:20:00Z")])
            try await Self.drain(api)
            let before = try await incidents(api, "acme-bv")
            #expect(before.count == 2)
            let older = try #require(before.first?["incidentId"] as? String), newer = try #require(before.last?["incidentId"] as? String)

            try await Self.ingest(
                api, "acme-bv",
                [Fixtures.signal(alert: "logon", device: "ws-0042", severity: "medium", observedAt: "2026-11-29T10:21:00Z", users: ["anna@acme-bv.example"])])
            try await Self.drain(api)
            let after = try await incidents(api, "acme-bv")
            let remaining = try #require(after.first { $0["incidentId"] as? String == older })
            let merged = try #require(after.first { $0["incidentId"] as? String == newer })
            #expect(remaining["status"] as? String == "open" && remaining["signalCount"] as? Int == 3, "\(remaining)")
            #expect(remaining["devices"] as? [String] == ["ws-0042"])
            #expect(Set(remaining["sources"] as? [String] ?? []) == ["endpoint", "microsoft365"])
            #expect(merged["status"] as? String == "merged" && merged["mergedInto"] as? String == older, "\(merged)")

            let soc = try await api.token(.soc)
            let detail = try await api.get("/v1/tenants/acme-bv/incidents/\(newer)", token: soc)
            #expect(detail.json["status"] as? String == "merged" && detail.json["mergedInto"] as? String == older, "\(detail.text)")
            let survivor = try await api.get("/v1/tenants/acme-bv/incidents/\(older)", token: soc)
            #expect((survivor.json["signals"] as? [String])?.count == 3)
            #expect((survivor.json["timeline"] as? [[String: Any]])?.contains { $0["type"] as? String == "IncidentAbsorbed" } == true)

            // The merged candidate's triage timer stopped as merged; the remaining one's runs on.
            let timers = try await api.get("/v1/tenants/acme-bv/incidents/\(newer)/sla", token: soc).json["timers"] as? [[String: Any]] ?? []
            #expect(timers.map { $0["stoppedBy"] as? String } == ["merged"], "\(timers)")
            let running = try await api.get("/v1/tenants/acme-bv/incidents/\(older)/sla", token: soc).json["timers"] as? [[String: Any]] ?? []
            #expect(running.count == 1 && running.first?["stoppedAt"] == nil, "\(running)")
        }
    }

    @Test func theSOCMergesByCommandUnderTheSameRules() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            try await api.onboard("other-co")
            let first = try await api.openIncident("acme-bv", device: "ws-0042", alert: "a-1")
            let second = try await api.openIncident("acme-bv", device: "ws-0043", alert: "a-2")
            let foreign = try await api.openIncident("other-co", device: "ws-0042", alert: "o-1")
            let soc = try await api.token(.soc)
            let base = "/v1/tenants/acme-bv/incidents"

            // Only the SOC merges.
            let customer = try await api.token(.customer, "acme-bv")
            expectProblem(try await api.post("\(base)/\(second)/merge", token: customer, ["into": first, "reason": "x"]), .forbidden, "forbidden")
            // Refusals: itself, another tenant's incident, no reason, a malformed id.
            let head = try await api.head("acme-bv")
            expectProblem(try await api.post("\(base)/\(first)/merge", token: soc, ["into": first, "reason": "x"]), .unprocessableContent, "merge_into_itself")
            expectProblem(try await api.post("\(base)/\(second)/merge", token: soc, ["into": foreign, "reason": "x"]), .notFound, "incident_not_found")
            expectProblem(try await api.post("\(base)/\(second)/merge", token: soc, ["into": first, "reason": " "]), .unprocessableContent, "reason_missing")
            expectProblem(try await api.post("\(base)/\(second)/merge", token: soc, ["into": "nope", "reason": "x"]), .unprocessableContent, "invalid_field")
            // A confirmed incident does not merge into a candidate.
            let confirmed = try await api.post("\(base)/\(first)/confirm", token: soc, ["priority": "P2", "summary": "one intruder, two machines"])
            #expect(confirmed.status == .ok)
            let afterConfirm = try await api.head("acme-bv")
            #expect(afterConfirm == head + 1)
            expectProblem(try await api.post("\(base)/\(first)/merge", token: soc, ["into": second, "reason": "x"]), .conflict, "merge_into_candidate")
            try await api.expectHead("acme-bv", afterConfirm, "refusals append nothing")

            // The candidate merges into the confirmed incident, which keeps its priority and can isolate both devices.
            let merged = try await api.post("\(base)/\(second)/merge", token: soc, ["into": first, "reason": "the same intruder"])
            #expect(merged.status == .ok, "\(merged.text)")
            #expect(merged.json["incidentId"] as? String == first && merged.json["status"] as? String == "confirmed")
            #expect(Set(merged.json["devices"] as? [String] ?? []) == ["ws-0042", "ws-0043"])
            #expect(merged.json["priority"] as? String == "P2")
            let isolate = try await api.post("/v1/tenants/acme-bv/devices/ws-0043/isolate", token: soc, ["incidentId": first, "comment": "contain"])
            #expect(isolate.status == .accepted, "\(isolate.text)")
            // The merged incident is closed for good.
            expectProblem(try await api.post("\(base)/\(second)/confirm", token: soc, ["priority": "P1", "summary": "x"]), .conflict, "incident_merged")
            expectProblem(try await api.post("\(base)/\(second)/merge", token: soc, ["into": first, "reason": "again"]), .conflict, "incident_merged")
            let detail = try await api.get("\(base)/\(second)", token: soc)
            #expect(detail.json["status"] as? String == "merged" && detail.json["mergedInto"] as? String == first)
            #expect(detail.json["closingNote"] as? String == "the same intruder")
        }
    }

    /// A tenant whose log was decided before merging existed (migration 0015 recorded its position) reads under the
    /// span rule up to that position, and merges after it.
    @Test func aTenantsLogBeforeItsCutoverIsReadWithoutMerging() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let cutover = try await api.head("acme-bv") + 3
            try await api.services.database.client.query(
                "INSERT INTO correlation_rule_cutovers (tenant_id, merging_after) VALUES ('acme-bv', \(cutover))", logger: TestDatabase.logger)
            try await Self.ingest(api, "acme-bv", [Fixtures.signal(alert: "signin", device: nil, source: "microsoft365", users: ["anna@acme-bv.example"])])
            try await Self.ingest(api, "acme-bv", [Fixtures.signal(alert: "malware", device: "ws-0042")])
            try await Self.ingest(api, "acme-bv", [Fixtures.signal(alert: "logon", device: "ws-0042", users: ["anna@acme-bv.example"])])
            #expect(try await api.head("acme-bv") == cutover)
            try await Self.drain(api)
            #expect(try await incidents(api, "acme-bv").map { $0["status"] as? String } == ["open", "open"], "decided by the span rule")
            // After the cutover, the next linking signal merges.
            try await Self.ingest(api, "acme-bv", [Fixtures.signal(alert: "logon-2", device: "ws-0042", users: ["anna@acme-bv.example"])])
            try await Self.drain(api)
            #expect(Set(try await incidents(api, "acme-bv").map { $0["status"] as? String }) == ["open", "merged"])
        }
    }

    /// The SOC tunes a tenant so that its firewall's low logs open incidents (a tuning period); other tenants keep the
    /// defaults.
    @Test func theSOCTunesATenantsOpeningThresholds() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            try await api.onboard("other-co")
            let soc = try await api.token(.soc)
            let body: [String: Any] = ["thresholds": [["source": "firewall", "severity": "low"]], "reason": "tuning: learn the network"]
            let dynamic = try await api.token(.dynamic)
            expectProblem(try await api.post("/v1/tenants/acme-bv/correlation/opening-thresholds", token: dynamic, body), .forbidden, "forbidden")
            expectProblem(
                try await api.post(
                    "/v1/tenants/acme-bv/correlation/opening-thresholds", token: soc,
                    ["thresholds": [["source": "firewall", "severity": "informational"]], "reason": "x"]), .unprocessableContent, "invalid_field")
            let tuned = try await api.post("/v1/tenants/acme-bv/correlation/opening-thresholds", token: soc, body)
            #expect(tuned.status == .ok, "\(tuned.text)")
            #expect(tuned.json["openingThresholds"] as? [[String: String]] == [["source": "firewall", "severity": "low"]])
            let read = try await api.get("/v1/tenants/acme-bv", token: soc)
            #expect(read.json["openingThresholds"] as? [[String: String]] == [["source": "firewall", "severity": "low"]], "\(read.text)")

            let accept = Fixtures.signal(alert: "accept-1", device: nil, severity: "low", source: "firewall", ips: ["10.0.0.42"])
            try await Self.ingest(api, "acme-bv", [accept])
            try await Self.ingest(api, "other-co", [accept])
            try await Self.drain(api)
            #expect(try await incidents(api, "acme-bv").count == 1, "tuned: the low firewall log opens an incident")
            #expect(try await incidents(api, "other-co").isEmpty, "the default: context only")
        }
    }
}
