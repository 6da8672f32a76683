import Foundation
import HTTPTypes
import MDRApplication
import MDRDomain
import MDRProjections
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// Ownership and notes (issue 17): the SOC assigns incidents, lists its own and the unassigned ones, and writes notes
/// that are scrubbed of secrets.
@Suite struct IncidentOwnershipEndpointTests {
    func ids(_ reply: Reply) -> [String] { (reply.json["incidents"] as? [[String: Any]] ?? []).compactMap { $0["incidentId"] as? String } }

    @Test func theSOCAssignsIncidentsAndListsMineAndTheUnassigned() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let first = try await api.openIncident("acme-bv", device: "ws-0042", alert: "a-1")
            let second = try await api.openIncident("acme-bv", device: "ws-0043", alert: "a-2")
            let soc = try await api.token(.soc)
            let base = "/v1/tenants/acme-bv/incidents"
            let assigned = try await api.post("\(base)/\(first)/assign", token: soc, ["assignee": "oidc:anna"])
            #expect(assigned.status == .ok && assigned.json["assignee"] as? String == "oidc:anna", "\(assigned.text)")
            let head = try await api.head("acme-bv")
            #expect(try await api.post("\(base)/\(first)/assign", token: soc, ["assignee": "oidc:anna"]).status == .ok)
            try await api.expectHead("acme-bv", head, "the same assignee again records nothing")
            expectProblem(try await api.post("\(base)/\(second)/assign", token: soc, ["assignee": ""]), .unprocessableContent, "invalid_field")
            expectProblem(
                try await api.post("\(base)/\(second)/assign", token: try await api.token(.customer, "acme-bv"), ["assignee": "x"]), .forbidden,
                "forbidden")

            try await TenantPipeline(ReadModels.standard(), store: api.services.store, logger: TestDatabase.logger).drain()
            #expect(ids(try await api.get("/v1/incidents?assignee=oidc:anna", token: soc)) == [first])
            #expect(ids(try await api.get("/v1/incidents?unassigned=true", token: soc)) == [second])
            #expect(ids(try await api.get("\(base)?assignee=oidc:anna", token: soc)) == [first])
            let row = try #require((try await api.get("/v1/incidents?assignee=oidc:anna", token: soc).json["incidents"] as? [[String: Any]])?.first)
            #expect(row["assignee"] as? String == "oidc:anna")

            // Unassigned again (null), it is back on the unassigned list.
            #expect(try await api.post("\(base)/\(first)/assign", token: soc, ["assignee": NSNull()]).json["assignee"] == nil)
            try await TenantPipeline(ReadModels.standard(), store: api.services.store, logger: TestDatabase.logger).drain()
            #expect(Set(ids(try await api.get("/v1/incidents?unassigned=true", token: soc))) == [first, second])
        }
    }

    @Test func notesAreScrubbedOfSecretsAndShownOnTheIncident() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let incident = try await api.openIncident("acme-bv")
            let soc = try await api.token(.soc)
            let text = "attacker ran psexec \\\\srv-01 -u admin -p Zomer2026! cmd; see https://portal.example/x?token=abc"
            let noted = try await api.post("/v1/tenants/acme-bv/incidents/\(incident)/notes", token: soc, ["text": text])
            #expect(noted.status == .ok, "\(noted.text)")
            let notes = try #require(noted.json["notes"] as? [[String: Any]])
            let stored = try #require(notes.first?["text"] as? String)
            #expect(!stored.contains("Zomer2026!") && !stored.contains("token=abc"), "\(stored)")
            #expect(stored.contains("[REDACTED]") && stored.hasPrefix("attacker ran psexec"))
            #expect((notes.first?["author"] as? String)?.hasPrefix("token:") == true)
            let read = try await api.get("/v1/tenants/acme-bv/incidents/\(incident)", token: soc)
            #expect((read.json["notes"] as? [[String: Any]])?.count == 1)
            #expect((read.json["timeline"] as? [[String: Any]])?.contains { $0["type"] as? String == "IncidentNoteAdded" } == true)
            // The customer reads its incident without the SOC's notes.
            let customer = try await api.get("/v1/tenants/acme-bv/incidents/\(incident)", token: try await api.token(.customer, "acme-bv"))
            #expect(customer.status == .ok && customer.json["notes"] == nil, "\(customer.text)")
            // Nothing of the secret is in the log.
            let events = try await api.services.store.readLog(tenant: TenantID(rawValue: "acme-bv")!, after: 0, limit: 1000, types: nil)
            #expect(!events.contains { $0.data.contains("Zomer2026!") })
            expectProblem(
                try await api.post("/v1/tenants/acme-bv/incidents/\(incident)/notes", token: soc, ["text": "  "]), .unprocessableContent, "invalid_field")
        }
    }
}
