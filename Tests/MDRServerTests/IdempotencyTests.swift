import Foundation
import HTTPTypes
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// `Idempotency-Key`: a repeated command returns the first outcome, with the same status, and appends nothing.
@Suite struct IdempotencyTests {
    @Test func repeatedOnboardingReturnsTheFirstOutcomeAndAppendsNothing() async throws {
        try await APIWorld.run { api in
            let dynamic = try await api.token(.dynamic)
            let first = try await api.post("/v1/tenants", token: dynamic, APIWorld.onboarding("acme-bv"), key: "onboard-1")
            #expect(first.status == .created, "\(first.text)")
            #expect(!first.replayed)
            let head = try await api.head("acme-bv")

            let again = try await api.post("/v1/tenants", token: dynamic, APIWorld.onboarding("acme-bv"), key: "onboard-1")
            #expect(again.status == .created, "\(again.text)")
            #expect(again.replayed)
            #expect(again.json["onboardedAt"] as? String == first.json["onboardedAt"] as? String)
            #expect(again.json["tenantId"] as? String == "acme-bv")
            try await api.expectHead("acme-bv", head)

            // Without the key, the same request is a new command: the tenant exists now.
            let unkeyed = try await api.post("/v1/tenants", token: dynamic, APIWorld.onboarding("acme-bv"))
            expectProblem(unkeyed, .conflict, "tenant_exists")
        }
    }

    @Test func sameKeyWithADifferentRequestIsRefused() async throws {
        try await APIWorld.run { api in
            let dynamic = try await api.token(.dynamic)
            let status = try await api.post("/v1/tenants", token: dynamic, APIWorld.onboarding("acme-bv"), key: "k-1").status
            #expect(status == .created)
            var changed = APIWorld.onboarding("acme-bv")
            changed["name"] = "Acme Holding B.V."
            let head = try await api.head("acme-bv")
            let reply = try await api.post("/v1/tenants", token: dynamic, changed, key: "k-1")
            expectProblem(reply, .unprocessableContent, "idempotency_key_reused")
            try await api.expectHead("acme-bv", head)
        }
    }

    @Test func repeatedIsolationAnswers202AgainWithTheFirstOutcome() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let incident = try await api.openIncident("acme-bv")
            let soc = try await api.token(.soc)
            let confirm = try await api.post(
                "/v1/tenants/acme-bv/incidents/\(incident)/confirm", token: soc, ["priority": "P1", "summary": "ransomware"], key: "c-1")
            #expect(confirm.status == .ok, "\(confirm.text)")

            let body: [String: Any] = ["incidentId": incident, "comment": "contain ransomware"]
            let first = try await api.post("/v1/tenants/acme-bv/devices/ws-0042/isolate", token: soc, body, key: "iso-1")
            #expect(first.status == .accepted, "\(first.text)")
            let head = try await api.head("acme-bv")

            let again = try await api.post("/v1/tenants/acme-bv/devices/ws-0042/isolate", token: soc, body, key: "iso-1")
            #expect(again.status == .accepted, "\(again.text)")
            #expect(again.replayed)
            #expect(again.json["state"] as? String == "pending")
            #expect(again.body == first.body)
            try await api.expectHead("acme-bv", head)

            // The same request under a new key is decided again, and refused.
            let fresh = try await api.post("/v1/tenants/acme-bv/devices/ws-0042/isolate", token: soc, body, key: "iso-2")
            expectProblem(fresh, .conflict, "device_isolation_pending")
        }
    }

    @Test func repeatedIngestReturnsTheFirstReport() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let batch: [String: Any] = ["signals": [Fixtures.signal(alert: "a-1"), Fixtures.signal(alert: "a-2")]]
            let first = try await api.post("/v1/tenants/acme-bv/signals", token: connector, batch, key: "batch-7")
            #expect(first.json["accepted"] as? Int == 2, "\(first.text)")
            let head = try await api.head("acme-bv")
            let again = try await api.post("/v1/tenants/acme-bv/signals", token: connector, batch, key: "batch-7")
            #expect(again.status == .ok)
            #expect(again.replayed)
            // The first outcome (accepted), not what a new decision would say (duplicate).
            #expect(again.json["accepted"] as? Int == 2, "\(again.text)")
            try await api.expectHead("acme-bv", head)
        }
    }

    @Test func correlationIDIsStoredWithTheEvents() async throws {
        try await APIWorld.run { api in
            let reply = try await api.send(
                .post, "/v1/tenants", token: try await api.token(.dynamic), json: APIWorld.onboarding("acme-bv"),
                headers: [(.correlationID, "case-2026-0042")])
            #expect(reply.status == .created)
            let events = try await api.services.store.readLog(tenant: TenantID(rawValue: "acme-bv")!, after: 0)
            #expect(events.first?.metadata.correlationID == "case-2026-0042")
            #expect(events.first?.metadata.role == "dynamic")
        }
    }
}
