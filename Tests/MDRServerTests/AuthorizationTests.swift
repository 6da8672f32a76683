import Foundation
import HTTPTypes
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// The roles of DOMAIN.md, operation by operation, and tenant isolation: a tenant-bound token never learns
/// anything of another tenant, not even that it exists.
@Suite struct AuthorizationTests {
    /// One operation of the API, with `{t}` for the tenant and `{i}` for an incident id in its path and body.
    struct Operation: Sendable, CustomStringConvertible {
        var name: String
        var method: HTTPRequest.Method
        var path: String
        var body: String?
        var allowed: Set<Role>
        var description: String { name }

        func uri(_ tenant: String, _ incident: String) -> String {
            path.replacingOccurrences(of: "{t}", with: tenant).replacingOccurrences(of: "{i}", with: incident)
        }

        func send(_ api: APIWorld, token: String, tenant: String, incident: String) async throws -> Reply {
            let raw = body.map { Data($0.replacingOccurrences(of: "{t}", with: tenant).replacingOccurrences(of: "{i}", with: incident).utf8) }
            return try await api.send(method, uri(tenant, incident), token: token, raw: raw)
        }
    }

    static let operations: [Operation] = [
        .init(
            name: "onboardTenant", method: .post, path: "/v1/tenants",
            body:
                #"{"tenantId":"new-co","name":"New","package":"compliant","contractStart":"2026-01-01","primaryContact":{"name":"A","email":"a@new.example"},"afterHoursRoute":{"channel":"email","address":"soc@new.example"},"consent":{"grantedBy":"A","grantedOn":"2026-01-01"}}"#,
            allowed: [.dynamic]),
        .init(name: "getTenant", method: .get, path: "/v1/tenants/{t}", allowed: [.soc, .dynamic, .customer]),
        .init(
            name: "ingestSignals", method: .post, path: "/v1/tenants/{t}/signals",
            body:
                #"{"signals":[{"source":"endpoint","sourceAlertId":"authz-1","severity":"low","observedAt":"2026-11-29T10:15:30Z","entities":{"devices":["ws-0099"]}}]}"#,
            allowed: [.soc, .connector]),
        .init(name: "getIncident", method: .get, path: "/v1/tenants/{t}/incidents/{i}", allowed: [.soc, .dynamic, .customer]),
        .init(
            name: "confirmIncident", method: .post, path: "/v1/tenants/{t}/incidents/{i}/confirm",
            body: #"{"priority":"P2","summary":"credential theft"}"#, allowed: [.soc]),
        .init(
            name: "dismissIncident", method: .post, path: "/v1/tenants/{t}/incidents/{i}/dismiss",
            body: #"{"classification":"false_positive","reason":"admin script"}"#, allowed: [.soc]),
        .init(
            name: "resolveIncident", method: .post, path: "/v1/tenants/{t}/incidents/{i}/resolve", body: #"{"resolution":"reimaged"}"#,
            allowed: [.soc]),
        .init(name: "getDevice", method: .get, path: "/v1/tenants/{t}/devices/ws-0042", allowed: [.soc, .dynamic, .customer]),
        .init(
            name: "isolateDevice", method: .post, path: "/v1/tenants/{t}/devices/ws-0042/isolate",
            body: #"{"incidentId":"{i}","comment":"contain"}"#, allowed: [.soc]),
        .init(
            name: "releaseDevice", method: .post, path: "/v1/tenants/{t}/devices/ws-0042/release", body: #"{"reason":"clean"}"#,
            allowed: [.soc]),
        .init(name: "listEvents", method: .get, path: "/v1/tenants/{t}/events", allowed: [.soc, .dynamic]),
    ]

    @Test func eachRoleIsRefusedWhereTheDomainSaysSoAndAllowedWhereItDoesNot() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let incident = try await api.openIncident("acme-bv")
            var tokens: [Role: String] = [:]
            for role in Role.allCases { tokens[role] = try await api.token(role, role.isTenantScoped ? "acme-bv" : nil) }

            let before = try await api.head("acme-bv")
            for operation in Self.operations {
                for role in Role.allCases where !operation.allowed.contains(role) {
                    let reply = try await operation.send(api, token: tokens[role]!, tenant: "acme-bv", incident: incident)
                    expectProblem(reply, .forbidden, "forbidden", "\(role.rawValue) → \(operation)")
                }
            }
            try await api.expectHead("acme-bv", before, "a refused command appended")
            try await api.expectHead("new-co", 0)

            // The allowed roles get past authorization (the answer may still be a refusal of the domain).
            for operation in Self.operations {
                for role in operation.allowed {
                    let reply = try await operation.send(api, token: tokens[role]!, tenant: "acme-bv", incident: incident)
                    #expect(![401, 403, 404].contains(reply.status.code), "\(role.rawValue) → \(operation): \(reply.text)")
                }
            }
        }
    }

    @Test func tokenOfTenantAGetsNothingOfTenantBAndAppendsNothing() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            try await api.onboard("globex")
            let incident = try await api.openIncident("globex")
            let headA = try await api.head("acme-bv")
            let headB = try await api.head("globex")

            for role in [Role.customer, .connector] {
                let token = try await api.token(role, "acme-bv")
                for operation in Self.operations where operation.name != "onboardTenant" {
                    let other = try await operation.send(api, token: token, tenant: "globex", incident: incident)
                    let missing = try await operation.send(api, token: token, tenant: "nobody-co", incident: incident)
                    let what: Comment = "\(role.rawValue) of acme-bv → \(operation) of globex"
                    // Not a word more about an existing tenant than about one that does not exist.
                    #expect(other.status == missing.status, what)
                    #expect(other.code == missing.code, what)
                    if operation.allowed.contains(role) {
                        expectProblem(other, .notFound, "tenant_not_found", what)
                    } else {
                        expectProblem(other, .forbidden, "forbidden", what)
                    }
                }
            }
            try await api.expectHead("acme-bv", headA)
            try await api.expectHead("globex", headB)
        }
    }

    @Test func tenantBoundTokenStillWorksOnItsOwnTenant() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let incident = try await api.openIncident("acme-bv")
            let customer = try await api.token(.customer, "acme-bv")
            let status = try await api.get("/v1/tenants/acme-bv", token: customer).status
            #expect(status == .ok)
            let read = try await api.get("/v1/tenants/acme-bv/incidents/\(incident)", token: customer)
            #expect(read.status == .ok, "\(read.text)")
            #expect(read.json["incidentId"] as? String == incident)
        }
    }

    @Test func socReadingAnUnknownTenantGetsTenantNotFound() async throws {
        try await APIWorld.run { api in
            let soc = try await api.token(.soc)
            expectProblem(try await api.get("/v1/tenants/nobody-co", token: soc), .notFound, "tenant_not_found")
            expectProblem(try await api.get("/v1/tenants/nobody-co/devices/ws-1", token: soc), .notFound, "tenant_not_found")
            expectProblem(try await api.get("/v1/tenants/nobody-co/events", token: soc), .notFound, "tenant_not_found")
            expectProblem(try await api.get("/v1/tenants/NOT_A_SLUG", token: soc), .notFound, "tenant_not_found")
        }
    }
}
