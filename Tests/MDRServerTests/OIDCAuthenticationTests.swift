import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import MDRApplication
import MDRDomain
@testable import MDRServer
import MDRStore
import MDRTestSupport
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

/// People sign in with the identity provider (e.g. Entra ID) and send its JWT as bearer: checked against the issuer,
/// the audience and the provider's published keys (fetched over real loopback HTTP here), with the role and the
/// tenant from its claims. `mdr_…` tokens keep working beside them.
@Suite struct OIDCAuthenticationTests {
    static let issuer = "https://login.example.test/contoso/v2.0"
    static let audience = "api://mdr"

    // MARK: Roles and tenants

    @Test func aSocUserReadsEveryTenant() async throws {
        try await withProvider { idp, configuration in
            try await APIWorld.run(configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                try await api.onboard("globex")
                let token = try await idp.token(roles: ["MDR.SOC"])
                for tenant in ["acme-bv", "globex"] {
                    let reply = try await api.get("/v1/tenants/\(tenant)", token: token)
                    #expect(reply.status == .ok, "\(tenant): \(reply.text)")
                }
            }
        }
    }

    @Test func aCustomerUserIsBoundToTheTenantOfItsClaim() async throws {
        try await withProvider { idp, configuration in
            try await APIWorld.run(configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                try await api.onboard("globex")
                let token = try await idp.token(roles: ["MDR.Customer"], tenant: "acme-bv")
                #expect(try await api.get("/v1/tenants/acme-bv", token: token).status == .ok)
                expectProblem(try await api.get("/v1/tenants/globex", token: token), .notFound, "tenant_not_found")
                // A customer may not do what only the SOC does, whatever its token says otherwise.
                expectProblem(
                    try await api.post("/v1/tenants/acme-bv/suppression-rules", token: token, ["match": ["device": "ws-1"], "reason": "x"]),
                    .forbidden, "forbidden")
            }
        }
    }

    @Test func aCustomerTokenWithoutAValidTenantClaimIsForbidden() async throws {
        try await withProvider { idp, configuration in
            try await APIWorld.run(configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                for tenant in [nil, "Not A Tenant!"] {
                    let reply = try await api.get("/v1/tenants/acme-bv", token: try await idp.token(roles: ["MDR.Customer"], tenant: tenant))
                    expectProblem(reply, .forbidden, "tenant_claim_missing", "tenant \(tenant ?? "absent")")
                }
            }
        }
    }

    @Test func aTokenWithoutOneUsableRoleIsForbidden() async throws {
        try await withProvider { idp, configuration in
            try await APIWorld.run(configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                for roles in [[], ["Directory.Reader"], ["connector"]] {
                    expectProblem(
                        try await api.get("/v1/tenants/acme-bv", token: try await idp.token(roles: roles)), .forbidden, "role_missing", "\(roles)")
                }
                expectProblem(
                    try await api.get("/v1/tenants/acme-bv", token: try await idp.token(roles: ["MDR.SOC", "MDR.Dynamic"])), .forbidden,
                    "role_ambiguous")
                // The same value twice, or beside values of no meaning here, is one role.
                let reply = try await api.get("/v1/tenants/acme-bv", token: try await idp.token(roles: ["MDR.SOC", "MDR.SOC", "Other"]))
                #expect(reply.status == .ok, "\(reply.text)")
            }
        }
    }

    @Test func aConfiguredRolesClaimAndRoleMapAreUsed() async throws {
        try await withProvider { idp, base in
            let configuration = modified(base) {
                $0.rolesClaim = "groups"
                $0.roleMap = ["b7c1-soc-group": .soc]
            }
            try await APIWorld.run(configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                #expect(try await api.get("/v1/tenants/acme-bv", token: try await idp.token(groups: ["b7c1-soc-group"])).status == .ok)
                // `roles` is not the configured claim any more.
                expectProblem(try await api.get("/v1/tenants/acme-bv", token: try await idp.token(roles: ["MDR.SOC"])), .forbidden, "role_missing")
            }
        }
    }

    // MARK: Refused tokens

    @Test func expiredNotYetValidWrongIssuerAndWrongAudienceAreUnauthenticated() async throws {
        try await withProvider { idp, configuration in
            try await APIWorld.run(configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                let now = Int(Date().timeIntervalSince1970)
                let cases: [(String, String, String)] = [
                    ("expired", try await idp.token(roles: ["MDR.SOC"], expires: now - 120), "token_expired"),
                    ("not yet valid", try await idp.token(roles: ["MDR.SOC"], notBefore: now + 600), "token_invalid"),
                    ("no expiry", try await idp.token(roles: ["MDR.SOC"], expires: nil), "token_invalid"),
                    ("other issuer", try await idp.token(roles: ["MDR.SOC"], issuer: "https://login.example.test/evil/v2.0"), "token_issuer"),
                    ("other audience", try await idp.token(roles: ["MDR.SOC"], audience: ["api://other"]), "token_audience"),
                ]
                for (name, token, code) in cases {
                    let reply = try await api.get("/v1/tenants/acme-bv", token: token)
                    expectProblem(reply, .unauthorized, code, "\(name)")
                    #expect(reply.headers[.wwwAuthenticate] == #"Bearer realm="mdr", error="invalid_token""#, "\(name)")
                }
                // Within the leeway of 60 s, and with our audience among others: accepted.
                let late = try await idp.token(roles: ["MDR.SOC"], audience: ["api://other", Self.audience], expires: now - 20)
                #expect(try await api.get("/v1/tenants/acme-bv", token: late).status == .ok)
            }
        }
    }

    @Test func unsignedSymmetricForgedAndTamperedTokensAreUnauthenticated() async throws {
        try await withProvider { idp, configuration in
            try await APIWorld.run(configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                let valid = try await idp.token(roles: ["MDR.SOC"])
                let parts = valid.split(separator: ".").map(String.init)
                #expect(try await api.get("/v1/tenants/acme-bv", token: valid).status == .ok)

                // alg none: the claims of the valid token, no signature.
                let none = "\(Self.base64URL(#"{"alg":"none","kid":"k1","typ":"JWT"}"#)).\(parts[1])."
                // HS256 with the public key as the shared secret (the classic key-confusion forgery).
                let hmac = JWTKeyCollection()
                await hmac.add(hmac: HMACKey(from: idp.key("k1").publicKey.pemRepresentation), digestAlgorithm: .sha256, kid: "k1")
                let symmetric = try await hmac.sign(idp.claims(roles: ["MDR.SOC"]), kid: "k1")
                // Signed by a key the provider does not publish, under the id of one it does.
                let forged = try await idp.token(roles: ["MDR.SOC"], kid: "k1", signingKey: ES256PrivateKey())
                // A valid signature over other claims: the customer's claims with the SOC token's signature.
                let customer = try await idp.token(roles: ["MDR.Customer"], tenant: "acme-bv").split(separator: ".").map(String.init)
                let tampered = "\(parts[0]).\(customer[1]).\(parts[2])"
                // The header says ES384, the key is used with ES256.
                let otherAlgorithm = "\(Self.base64URL(#"{"alg":"ES384","kid":"k1","typ":"JWT"}"#)).\(parts[1]).\(parts[2])"
                for (name, token) in [
                    ("none", none), ("HS256", symmetric), ("forged", forged), ("tampered", tampered), ("ES384", otherAlgorithm),
                    ("no kid", try await idp.token(roles: ["MDR.SOC"], kid: nil)),
                ] {
                    let reply = try await api.get("/v1/tenants/acme-bv", token: token)
                    expectProblem(reply, .unauthorized, "token_invalid", "\(name)")
                    #expect(reply.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true, "\(name)")
                }
            }
        }
    }

    // MARK: The provider's keys

    @Test func aRotatedKeyIsAcceptedAfterARefetchButUnknownKeysDoNotCauseAFetchEach() async throws {
        try await withProvider { idp, base in
            let configuration = modified(base) {
                $0.refetchInterval = .seconds(2)
            }
            // The refetch interval is measured on a clock that moves only when told to: however slow the machine, the five
            // refusals below fall within it.
            let time = ManualTime(Date())
            try await APIWorld.run(configure: {
                $0.oidc = configuration
                $0.time = time
            }) { api in
                try await api.onboard("acme-bv")
                #expect(try await api.get("/v1/tenants/acme-bv", token: try await idp.token(roles: ["MDR.SOC"])).status == .ok)
                #expect(idp.keySetFetches == 1)

                // The provider starts signing with a new key it has not published yet: refused, and within the refetch
                // interval asked for no more than once.
                let rotated = try await idp.token(roles: ["MDR.SOC"], kid: "k2", signingKey: idp.addKey("k2", publish: false))
                for _ in 0..<5 {
                    expectProblem(try await api.get("/v1/tenants/acme-bv", token: rotated), .unauthorized, "token_invalid")
                }
                #expect(idp.keySetFetches == 1)

                idp.publish("k2")
                time.advance(by: 2.1)
                #expect(try await api.get("/v1/tenants/acme-bv", token: rotated).status == .ok)
                #expect(idp.keySetFetches == 2)
                // The old key is still published and known: no fetch for it.
                #expect(try await api.get("/v1/tenants/acme-bv", token: try await idp.token(roles: ["MDR.SOC"])).status == .ok)
                #expect(idp.keySetFetches == 2)
            }
        }
    }

    @Test func withoutTheProvidersKeysNothingIsLetThrough() async throws {
        // Nothing listens on the key set's address.
        let closed = try await withProvider { _, configuration in configuration.jwksURL! }
        try await withProvider { idp, base in
            let configuration = modified(base) {
                $0.jwksURL = closed
                $0.fetchTimeout = .seconds(2)
            }
            try await APIWorld.run(configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                let reply = try await api.get("/v1/tenants/acme-bv", token: try await idp.token(roles: ["MDR.SOC"]))
                expectProblem(reply, .unauthorized, "token_unverifiable")
                #expect(reply.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true)
            }
        }
    }

    @Test func keysFetchedBeforeAnOutageKeepWorkingAndNewOnesAreUnverifiable() async throws {
        try await withProvider { idp, base in
            let configuration = modified(base) {
                $0.refetchInterval = .zero
            }
            try await APIWorld.run(configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                let token = try await idp.token(roles: ["MDR.SOC"])
                #expect(try await api.get("/v1/tenants/acme-bv", token: token).status == .ok)

                idp.fail(true)
                #expect(try await api.get("/v1/tenants/acme-bv", token: token).status == .ok, "a known key needs no fetch")
                let rotated = try await idp.token(roles: ["MDR.SOC"], kid: "k2", signingKey: idp.addKey("k2", publish: true))
                expectProblem(try await api.get("/v1/tenants/acme-bv", token: rotated), .unauthorized, "token_unverifiable")

                idp.fail(false)
                #expect(try await api.get("/v1/tenants/acme-bv", token: rotated).status == .ok)
            }
        }
    }

    @Test func theKeySetIsDiscoveredFromTheIssuer() async throws {
        try await withProvider { idp, base in
            // The issuer is the provider itself, which serves /.well-known/openid-configuration.
            let configuration = OIDCConfiguration(issuer: idp.baseURL, audience: Self.audience)
            #expect(base.jwksURL != nil, "the other tests name the key set")
            try await APIWorld.run(configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                let token = try await idp.token(roles: ["MDR.Dynamic"], issuer: idp.baseURL)
                let reply = try await api.get("/v1/tenants/acme-bv", token: token)
                #expect(reply.status == .ok, "\(reply.text)")
                #expect(idp.discoveries == 1)
                #expect(idp.keySetFetches == 1)
            }
        }
    }

    @Test func aDiscoveryDocumentOfAnotherIssuerIsNotTrusted() async throws {
        try await withProvider { idp, _ in
            // The document names the issuer without the trailing slash: not the configured one (OIDC Discovery §4.3).
            let configuration = OIDCConfiguration(issuer: idp.baseURL + "/", audience: Self.audience)
            try await APIWorld.run(configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                let token = try await idp.token(roles: ["MDR.SOC"], issuer: idp.baseURL + "/")
                expectProblem(try await api.get("/v1/tenants/acme-bv", token: token), .unauthorized, "token_unverifiable")
                #expect(idp.discoveries == 1)
                #expect(idp.keySetFetches == 0)
            }
        }
    }

    // MARK: Who acted

    @Test func anActionWithAJWTRecordsTheUserInTheEventMetadata() async throws {
        try await withProvider { idp, configuration in
            try await APIWorld.run(configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                let token = try await idp.token(roles: ["MDR.SOC"], oid: "5f1c9b2e-0d4a-4c1e-9a8b-2d3e4f5a6b7c", name: "Sam Analyst")
                let added = try await api.post(
                    "/v1/tenants/acme-bv/suppression-rules", token: token, ["match": ["device": "ws-0042"], "reason": "admin test box"])
                #expect(added.status == .created, "\(added.text)")
                let events = try await api.services.store.readLog(tenant: TenantID(rawValue: "acme-bv")!, after: 0)
                let last = try #require(events.last)
                #expect(last.metadata.actor == "oidc:5f1c9b2e-0d4a-4c1e-9a8b-2d3e4f5a6b7c")
                #expect(last.metadata.actorName == "Sam Analyst")
                #expect(last.metadata.role == "soc")
            }
        }
    }

    // MARK: Beside mdr_ tokens

    @Test func opaqueTokensKeepWorkingBesideJWTs() async throws {
        try await withProvider { idp, configuration in
            try await APIWorld.run(.live, configure: { $0.oidc = configuration }) { api in
                try await api.onboard("acme-bv")
                #expect(try await api.get("/v1/tenants/acme-bv", token: try await api.token(.soc)).status == .ok)
                #expect(try await api.get("/v1/tenants/acme-bv", token: try await idp.token(roles: ["MDR.SOC"])).status == .ok)
                let unknown = "mdr_" + String(repeating: "A", count: 43)
                expectProblem(try await api.get("/v1/tenants/acme-bv", token: unknown), .unauthorized, "unauthenticated")
            }
        }
    }

    @Test func withoutOIDCConfiguredAJWTIsAnUnknownToken() async throws {
        try await withProvider { idp, _ in
            try await APIWorld.run { api in
                try await api.onboard("acme-bv")
                let token = try await idp.token(roles: ["MDR.SOC"])
                expectProblem(try await api.get("/v1/tenants/acme-bv", token: token), .unauthorized, "unauthenticated")
                #expect(idp.keySetFetches == 0)
            }
        }
    }

    // MARK: Configuration

    @Test func theConfigurationIsReadFromTheEnvironmentAndBadValuesAreRefusedByName() throws {
        #expect(try OIDCConfiguration.fromEnvironment([:]) == nil)
        #expect(try OIDCConfiguration.fromEnvironment(["MDR_OIDC_ISSUER": " "]) == nil)

        let standard = try #require(
            try OIDCConfiguration.fromEnvironment(["MDR_OIDC_ISSUER": Self.issuer, "MDR_OIDC_AUDIENCE": Self.audience]))
        #expect(standard.issuer == Self.issuer)
        #expect(standard.jwksURL == nil)
        #expect(standard.discoveryURL.absoluteString == "https://login.example.test/contoso/v2.0/.well-known/openid-configuration")
        #expect(standard.rolesClaim == "roles")
        #expect(standard.tenantClaim == "mdr_tenant")
        #expect(standard.roleMap == ["MDR.SOC": .soc, "MDR.Dynamic": .dynamic, "MDR.Customer": .customer])

        let custom = try #require(
            try OIDCConfiguration.fromEnvironment([
                "MDR_OIDC_ISSUER": "http://127.0.0.1:9000/realms/mdr", "MDR_OIDC_AUDIENCE": "mdr-api",
                "MDR_OIDC_JWKS_URL": "https://keys.example.test/jwks", "MDR_OIDC_ROLES_CLAIM": "groups",
                "MDR_OIDC_TENANT_CLAIM": "extension_tenant", "MDR_OIDC_ROLE_MAP": "soc-team = soc, customers=customer",
            ]))
        #expect(custom.jwksURL?.absoluteString == "https://keys.example.test/jwks")
        #expect(custom.rolesClaim == "groups")
        #expect(custom.tenantClaim == "extension_tenant")
        #expect(custom.roleMap == ["soc-team": .soc, "customers": .customer])

        let refused: [([String: String], String)] = [
            (["MDR_OIDC_AUDIENCE": "mdr-api"], "MDR_OIDC_AUDIENCE"),
            (["MDR_OIDC_ISSUER": "login.example.test"], "MDR_OIDC_ISSUER"),
            (["MDR_OIDC_ISSUER": "http://login.example.test/v2.0", "MDR_OIDC_AUDIENCE": "a"], "MDR_OIDC_ISSUER"),
            (["MDR_OIDC_ISSUER": Self.issuer], "MDR_OIDC_AUDIENCE"),
            (["MDR_OIDC_ISSUER": Self.issuer, "MDR_OIDC_AUDIENCE": "a", "MDR_OIDC_JWKS_URL": "ftp://x/keys"], "MDR_OIDC_JWKS_URL"),
            (["MDR_OIDC_ISSUER": Self.issuer, "MDR_OIDC_AUDIENCE": "a", "MDR_OIDC_ROLE_MAP": "Bots=connector"], "MDR_OIDC_ROLE_MAP"),
            (["MDR_OIDC_ISSUER": Self.issuer, "MDR_OIDC_AUDIENCE": "a", "MDR_OIDC_ROLE_MAP": "SOC=admin"], "MDR_OIDC_ROLE_MAP"),
            (["MDR_OIDC_ISSUER": Self.issuer, "MDR_OIDC_AUDIENCE": "a", "MDR_OIDC_ROLE_MAP": "SOC=soc,SOC=dynamic"], "MDR_OIDC_ROLE_MAP"),
        ]
        for (environment, name) in refused {
            do {
                _ = try OIDCConfiguration.fromEnvironment(environment)
                Issue.record("accepted \(environment)")
            } catch let error as ServerConfiguration.InvalidSetting {
                #expect(error.description.hasPrefix(name), "\(error.description)")
            }
        }
    }

    @Test func onlyJWTShapedBearersGoToTheVerifier() {
        #expect(OIDCVerifier.looksLikeJWT("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"))
        #expect(OIDCVerifier.looksLikeJWT("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."), "alg none goes to the verifier, to be refused there")
        #expect(!OIDCVerifier.looksLikeJWT("mdr_" + String(repeating: "A", count: 43)))
        #expect(!OIDCVerifier.looksLikeJWT("a.b"))
        #expect(!OIDCVerifier.looksLikeJWT("a.b.c.d"))
        #expect(!OIDCVerifier.looksLikeJWT(".b.c"))
        #expect(!OIDCVerifier.looksLikeJWT("a+b.c/d.e="))
    }

    // MARK: Support

    func modified(_ base: OIDCConfiguration, _ change: (inout OIDCConfiguration) -> Void) -> OIDCConfiguration {
        var configuration = base
        change(&configuration)
        return configuration
    }

    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Runs a fake identity provider on a free loopback port while `body` runs with it and a configuration that
    /// trusts it (issuer `issuer`, audience `audience`, its key set by URL).
    func withProvider<T: Sendable>(
        _ body: @escaping @Sendable (FakeIdentityProvider, OIDCConfiguration) async throws -> T
    ) async throws -> T {
        let idp = FakeIdentityProvider(issuer: Self.issuer, audience: Self.audience)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: idp.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            })
        // Stopped gracefully (not cancelled), so that the server's shutdown logs no errors.
        let services = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "fake-idp")))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw ProviderDidNotStart() }
            idp.started(port: port)
            var configuration = OIDCConfiguration(
                issuer: Self.issuer, audience: Self.audience, jwksURL: URL(string: "http://127.0.0.1:\(port)/keys")!)
            configuration.refetchInterval = .seconds(30)
            do {
                let result = try await body(idp, configuration)
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
                return result
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
        }
    }

    struct ProviderDidNotStart: Error {}
}

/// An identity provider on loopback: a discovery document and a key set of ES256 keys made in the test, which it can
/// rotate, and withhold (answering 503).
final class FakeIdentityProvider: Sendable {
    private struct State {
        var port = 0
        var keys: [String: ES256PrivateKey] = [:]
        var published: [String] = []
        var failing = false
        var keySetFetches = 0
        var discoveries = 0
    }

    let issuer: String
    let audience: String
    private let state = Mutex(State())

    init(issuer: String, audience: String) {
        self.issuer = issuer
        self.audience = audience
        _ = addKey("k1", publish: true)
    }

    func started(port: Int) { state.withLock { $0.port = port } }
    var baseURL: String { "http://127.0.0.1:\(state.withLock { $0.port })" }
    var keySetFetches: Int { state.withLock { $0.keySetFetches } }
    var discoveries: Int { state.withLock { $0.discoveries } }

    func key(_ kid: String) -> ES256PrivateKey { state.withLock { $0.keys[kid]! } }

    /// A new signing key; published in the key set now, or later with `publish(_:)`.
    func addKey(_ kid: String, publish: Bool) -> ES256PrivateKey {
        let key = ES256PrivateKey()
        state.withLock {
            $0.keys[kid] = key
            if publish { $0.published.append(kid) }
        }
        return key
    }

    func publish(_ kid: String) { state.withLock { $0.published.append(kid) } }
    /// From now on the provider answers 503 (or again normally).
    func fail(_ failing: Bool) { state.withLock { $0.failing = failing } }

    /// Claims of a user of the provider; `nil` leaves a claim out.
    func claims(
        roles: [String]? = nil, groups: [String]? = nil, tenant: String? = nil, issuer: String? = nil, audience: [String]? = nil,
        expires: Int? = Int(Date().timeIntervalSince1970) + 3600, notBefore: Int? = nil, oid: String = "0a1b2c3d-user",
        name: String = "Test User"
    ) -> TestClaims {
        TestClaims(
            iss: issuer ?? self.issuer, aud: audience ?? [self.audience], exp: expires, nbf: notBefore,
            iat: Int(Date().timeIntervalSince1970), sub: "pairwise-\(oid)", oid: oid, name: name, preferred_username: "user@contoso.example",
            roles: roles, groups: groups, mdr_tenant: tenant)
    }

    /// A token signed with the key `kid` (or with `signingKey` under that id; `kid: nil` leaves the header without one).
    func token(
        roles: [String]? = nil, groups: [String]? = nil, tenant: String? = nil, issuer: String? = nil, audience: [String]? = nil,
        expires: Int? = Int(Date().timeIntervalSince1970) + 3600, notBefore: Int? = nil, oid: String = "0a1b2c3d-user",
        name: String = "Test User", kid: String? = "k1", signingKey: ES256PrivateKey? = nil
    ) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: signingKey ?? key(kid ?? "k1"), kid: kid.map { JWKIdentifier(string: $0) })
        let claims = claims(
            roles: roles, groups: groups, tenant: tenant, issuer: issuer, audience: audience, expires: expires, notBefore: notBefore, oid: oid,
            name: name)
        return try await keys.sign(claims, kid: kid.map { JWKIdentifier(string: $0) })
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/.well-known/openid-configuration") { _, _ -> Response in
            let (failing, base) = self.state.withLock { state in
                state.discoveries += 1
                return (state.failing, "http://127.0.0.1:\(state.port)")
            }
            if failing { return Response(status: .serviceUnavailable) }
            return Self.json(["issuer": base, "jwks_uri": "\(base)/keys"])
        }
        router.get("/keys") { _, _ -> Response in
            let (failing, keys) = self.state.withLock { state in
                state.keySetFetches += 1
                return (state.failing, state.published.map { ($0, state.keys[$0]!) })
            }
            if failing { return Response(status: .serviceUnavailable) }
            let jwks: [[String: String]] = keys.map { kid, key in
                let (x, y) = key.publicKey.parameters!
                return ["kty": "EC", "crv": "P-256", "use": "sig", "kid": kid, "x": x, "y": y]
            }
            // A symmetric key (which jwt-kit does not read from a key set) is skipped, not fatal.
            let others: [[String: String]] = [
                ["kty": "oct", "kid": "hmac", "k": "c2VjcmV0"],
            ]
            return Self.json(["keys": jwks + others])
        }
        return router
    }

    private static func json(_ object: Any) -> Response {
        let data = try! JSONSerialization.data(withJSONObject: object)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The claims a provider puts in an access token (Entra ID's names).
struct TestClaims: JWTPayload {
    var iss: String?
    var aud: [String]?
    var exp: Int?
    var nbf: Int?
    var iat: Int?
    var sub: String?
    var oid: String?
    var name: String?
    var preferred_username: String?
    var roles: [String]?
    var groups: [String]?
    var mdr_tenant: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
