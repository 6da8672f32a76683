import Foundation
import HTTPTypes
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// Every `/v1` operation needs a valid bearer token; health checks and the document do not.
@Suite struct AuthenticationTests {
    @Test func requestWithoutTokenIsUnauthenticated() async throws {
        try await APIWorld.run { api in
            let reply = try await api.get("/v1/tenants/acme-bv", token: nil)
            expectProblem(reply, .unauthorized, "unauthenticated")
            #expect(reply.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
        }
    }

    @Test func unknownMalformedRevokedAndExpiredTokensAreUnauthenticated() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let revoked = try await api.services.tokens.create(name: "old laptop", role: .soc, tenant: nil)
            let revokedNow = try await api.services.tokens.revoke(id: revoked.0.id)
            #expect(revokedNow)
            let expired = try await api.token(.soc, expiresAt: Date().addingTimeInterval(-60))
            let unknown = "mdr_" + String(repeating: "A", count: 43)

            for (name, header) in [
                ("unknown", "Bearer \(unknown)"), ("revoked", "Bearer \(revoked.1)"), ("expired", "Bearer \(expired)"),
                ("not a bearer", "Basic dXNlcjpwYXNz"), ("empty", "Bearer "),
            ] {
                let reply = try await api.send(.get, "/v1/tenants/acme-bv", headers: [(.authorization, header)])
                expectProblem(reply, .unauthorized, "unauthenticated", "\(name)")
                #expect(reply.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(name)")
            }
        }
    }

    @Test func aRotatedTokenIsRefusedOnceItsGraceHasEndedAndItsSuccessorIsAccepted() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let (old, oldSecret) = try await api.services.tokens.create(name: "acme portal", role: .customer, tenant: TenantID(rawValue: "acme-bv"))
            let inGrace = try await api.services.tokens.rotate(id: old.id, grace: 3600)
            #expect(try await api.get("/v1/tenants/acme-bv", token: oldSecret).status == .ok)
            #expect(try await api.get("/v1/tenants/acme-bv", token: inGrace.1).status == .ok)
            // Rotating the successor without grace: it stops at once, its own successor takes over.
            let (_, last, _) = try await api.services.tokens.rotate(id: inGrace.0.id, grace: 0)
            expectProblem(try await api.get("/v1/tenants/acme-bv", token: inGrace.1), .unauthorized, "unauthenticated")
            #expect(try await api.get("/v1/tenants/acme-bv", token: last).status == .ok)
            // The use is recorded.
            let listed = try await api.services.tokens.list()
            #expect(listed.first { $0.id == old.id }?.lastUsedAt != nil)
        }
    }

    @Test func unauthenticatedCommandAppendsNothing() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let before = try await api.head("acme-bv")
            let reply = try await api.post(
                "/v1/tenants/acme-bv/signals", token: "mdr_forged", ["signals": [Fixtures.signal(alert: "a-1")]])
            expectProblem(reply, .unauthorized, "unauthenticated")
            try await api.expectHead("acme-bv", before)
        }
    }

    @Test func validTokenIsAccepted() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let reply = try await api.get("/v1/tenants/acme-bv", token: try await api.token(.soc))
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.json["tenantId"] as? String == "acme-bv")
        }
    }

    @Test func healthChecksAndTheDocumentNeedNoToken() async throws {
        try await APIWorld.run { api in
            for path in ["/health/live", "/health/ready", "/openapi.yaml"] {
                let reply = try await api.get(path, token: nil)
                #expect(reply.status == .ok, "\(path): \(reply.text)")
            }
        }
    }
}
