import Foundation
import HTTPTypes
import MDRDomain
import MDRServer
import MDRTestSupport
import Testing

/// What ops/fuzz (Schemathesis against the served document) found, kept fixed.
@Suite struct FuzzFindingsTests {
    /// PostgreSQL cannot store U+0000: a command or a batch with it was a 500; now a 400, with nothing stored.
    @Test func textWithTheNulCharacterIsABadRequest() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let incident = try await api.openIncident("acme-bv")
            let soc = try await api.token(.soc)
            let head = try await api.head("acme-bv")

            let confirm = try await api.post(
                "/v1/tenants/acme-bv/incidents/\(incident)/confirm", token: soc, ["priority": "P2", "summary": "a\u{0}b"])
            expectProblem(confirm, .badRequest, "bad_request")
            #expect(confirm.text.contains("NUL"), "\(confirm.text)")

            let signal: [String: Any] = [
                "source": "endpoint", "sourceAlertId": "da-\u{0}", "severity": "high", "title": "T\u{0}",
                "observedAt": "2026-11-29T10:15:30Z", "entities": ["devices": ["ws-0042"]],
            ]
            let ingest = try await api.post("/v1/tenants/acme-bv/signals", token: soc, ["signals": [signal]])
            expectProblem(ingest, .badRequest, "bad_request")

            let dynamic = try await api.token(.dynamic)
            let check = try await api.post(
                "/v1/tenants/acme-bv/health-checks", token: dynamic, ["source": "endpoint", "status": "missing", "missing": ["m\u{0}"]])
            expectProblem(check, .badRequest, "bad_request")
            try await api.expectHead("acme-bv", head)
        }
    }

    /// The hand-over's body is optional: without one (no Content-Type either) the defaults apply; it was a 400.
    @Test func handOverWithoutABodyIsDecidedLikeAnEmptyOne() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let dynamic = try await api.token(.dynamic)
            let bare = try await api.send(.post, "/v1/tenants/acme-bv/hand-over", token: dynamic)
            expectProblem(bare, .conflict, "roll_out_not_completed")
            let empty = try await api.post("/v1/tenants/acme-bv/hand-over", token: dynamic, [String: Any]())
            expectProblem(empty, .conflict, "roll_out_not_completed")
        }
    }

    /// `Idempotency-Key` and `X-Correlation-ID` are opaque texts, taken as sent: the generated code percent-decoded
    /// them (`50%off` was refused as "must be 1–200 characters", `k%20x` became `k x`).
    @Test func commandHeadersAreTakenAsSent() async throws {
        try await APIWorld.run { api in
            let dynamic = try await api.token(.dynamic)
            let first = try await api.post("/v1/tenants", token: dynamic, APIWorld.onboarding("acme-bv"), key: "k%20x")
            #expect(first.status == .created, "\(first.text)")
            let replay = try await api.post("/v1/tenants", token: dynamic, APIWorld.onboarding("acme-bv"), key: "k%20x")
            #expect(replay.status == .created && replay.replayed, "\(replay.text)")
            // Another key: a new command (the tenant exists now), not a replay of `k%20x`.
            let other = try await api.post("/v1/tenants", token: dynamic, APIWorld.onboarding("acme-bv"), key: "k x")
            expectProblem(other, .conflict, "tenant_exists")

            let stray = try await api.send(
                .post, "/v1/tenants/acme-bv/roll-out", token: dynamic,
                headers: [(HTTPField.Name("X-Correlation-ID")!, "50%off"), (.idempotencyKey, "100%")])
            expectProblem(stray, .conflict, "sources_missing")
        }
    }
}
