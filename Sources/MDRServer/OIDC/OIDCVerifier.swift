import Foundation
import HTTPTypes
import JWTKit
import Logging
import MDRApplication
import MDRDomain

/// Turns an OpenID Connect bearer JWT into a `Principal`, or refuses it with a stable code.
///
/// Checked, in order: the header (an accepted asymmetric `alg`, a `kid`, no `crit`); the signature with the
/// issuer's key of that `kid` (which must be used with that `alg`); `exp` and `nbf` with `leeway`; `iss` exactly;
/// `aud` containing the audience. Then the role: exactly one of the mapped role values (several distinct roles are
/// refused rather than guessed), and for `customer` a valid tenant id in the tenant claim, to which the principal is
/// bound. `soc` and `dynamic` are cross-tenant and ignore the tenant claim.
struct OIDCVerifier: Sendable {
    let configuration: OIDCConfiguration
    let keys: OIDCKeySet
    /// Expiry, and the key set's age and refetch interval, are measured on this clock (a test's moves when told to).
    let time: any TimeSource

    init(configuration: OIDCConfiguration, time: any TimeSource = SystemTime(), logger: Logger) {
        self.configuration = configuration
        self.time = time
        self.keys = OIDCKeySet(configuration: configuration, time: time, logger: logger)
    }

    /// Whether a bearer token has the shape of a JWS in compact serialisation: three base64url parts, the first two
    /// non-empty (the third is empty for `alg: none`, which is then refused by the verifier rather than looked up as
    /// an opaque token). `mdr_…` tokens never contain a dot.
    static func looksLikeJWT(_ token: String) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, token.utf8.count <= 16 << 10 else { return false }
        return token.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                true
            default: false
            }
        }
    }

    /// The principal of a valid token.
    func principal(for token: String) async throws(OIDCRefusal) -> Principal {
        let now = time.now()
        let header = try Self.header(of: token)
        guard let algorithm = header.alg, OIDCKeySet.acceptedAlgorithms.contains(algorithm) else {
            throw .invalid("the token's algorithm '\(header.alg ?? "")' is not accepted: sign with RS256, PS256, ES256 or EdDSA keys")
        }
        guard header.crit == nil else { throw .invalid("the token has critical header parameters ('crit') this service does not know") }
        guard let kid = header.kid, !kid.isEmpty else { throw .invalid("the token names no signing key ('kid')") }
        let collection: JWTKeyCollection
        switch await keys.lookup(kid: kid) {
        case .unavailable:
            throw .unverifiable
        case .unknownKey:
            throw .invalid("the token is signed with a key ('\(kid.prefix(80))') the issuer does not publish")
        case .key(let keys, let keyAlgorithm):
            guard keyAlgorithm == algorithm else {
                throw .invalid("the token's algorithm '\(algorithm)' is not the one of its key ('\(keyAlgorithm)')")
            }
            collection = keys
        }
        let claims: OIDCClaims
        do {
            claims = try await collection.verify(token, as: OIDCClaims.self)
        } catch {
            throw .invalid("the token's signature does not verify, or its claims cannot be read")
        }
        try check(claims, now: now)
        return try principal(from: claims)
    }

    /// Lifetime, issuer and audience.
    private func check(_ claims: OIDCClaims, now: Date) throws(OIDCRefusal) {
        let leeway = Double(configuration.leeway.components.seconds)
        guard let exp = claims.number("exp") else { throw .invalid("the token has no expiry ('exp')") }
        guard now.timeIntervalSince1970 < exp + leeway else { throw .expired }
        if let nbf = claims.number("nbf"), now.timeIntervalSince1970 + leeway < nbf {
            throw .invalid("the token is not valid yet ('nbf'): check the clocks")
        }
        guard claims.string("iss") == configuration.issuer else { throw .issuer }
        guard claims.strings("aud").contains(configuration.audience) else { throw .audience }
    }

    private func principal(from claims: OIDCClaims) throws(OIDCRefusal) -> Principal {
        // Entra ID's `oid` is the user's id across applications; `sub` is per application (pairwise).
        guard let subject = claims.string("oid") ?? claims.string("sub"), !subject.isEmpty else {
            throw .invalid("the token names no user ('oid' or 'sub')")
        }
        let values = claims.strings(configuration.rolesClaim)
        let roles = Set(values.compactMap { configuration.roleMap[$0] })
        guard let role = roles.first else {
            throw .noRole(claim: configuration.rolesClaim, expected: configuration.roleMap.keys.sorted())
        }
        guard roles.count == 1 else { throw .ambiguousRole(roles.map(\.rawValue).sorted()) }
        var tenant: TenantID?
        if role.isTenantScoped {
            guard let raw = claims.string(configuration.tenantClaim), let id = TenantID(rawValue: raw) else {
                throw .noTenant(claim: configuration.tenantClaim)
            }
            tenant = id
        }
        let name = claims.string("name") ?? claims.string("preferred_username") ?? subject
        return Principal(id: "oidc:\(subject.prefix(200))", name: String(name.prefix(200)), role: role, tenant: tenant)
    }

    private struct Header: Decodable {
        var alg: String?
        var kid: String?
        var crit: [String]?
    }

    private static func header(of token: String) throws(OIDCRefusal) -> Header {
        guard let encoded = token.split(separator: ".").first, let data = Data(base64URL: encoded),
            let header = try? JSONDecoder().decode(Header.self, from: data)
        else { throw .invalid("the token's header is not base64url-encoded JSON") }
        return header
    }
}

/// Why an OpenID Connect token is refused: `401` with `WWW-Authenticate: Bearer error="invalid_token"` when the token
/// itself is not acceptable, `403` when it is valid but grants nothing usable here.
enum OIDCRefusal: Error, Equatable {
    case invalid(String)
    case expired
    case issuer
    case audience
    /// The issuer's keys cannot be fetched: nothing can be verified (never let through).
    case unverifiable
    case noRole(claim: String, expected: [String])
    case ambiguousRole([String])
    case noTenant(claim: String)

    var problem: Problem {
        switch self {
        case .invalid(let detail): Self.unauthorized("token_invalid", detail)
        case .expired: Self.unauthorized("token_expired", "the token has expired: sign in again for a new one")
        case .issuer: Self.unauthorized("token_issuer", "the token is from another issuer than the one this service trusts")
        case .audience: Self.unauthorized("token_audience", "the token is not meant for this API: request it for the API's audience")
        case .unverifiable:
            Self.unauthorized(
                "token_unverifiable", "the identity provider's signing keys cannot be fetched now, so the token cannot be checked: retry later")
        case .noRole(let claim, let expected):
            Problem(
                status: .forbidden, code: "role_missing",
                detail: "the token grants no role of this service: its '\(claim)' claim must hold one of \(expected.joined(separator: ", "))")
        case .ambiguousRole(let roles):
            Problem(
                status: .forbidden, code: "role_ambiguous",
                detail: "the token grants several roles (\(roles.joined(separator: ", "))): assign the user exactly one")
        case .noTenant(let claim):
            Problem(
                status: .forbidden, code: "tenant_claim_missing",
                detail: "a customer's token must name its tenant id in the '\(claim)' claim: ask Dynamic to set it")
        }
    }

    private static func unauthorized(_ code: String, _ detail: String) -> Problem {
        Problem(status: .unauthorized, code: code, detail: detail, headers: [.wwwAuthenticate: #"Bearer realm="mdr", error="invalid_token""#])
    }
}

/// The claims of a token as JSON values, read by name: the names of the role and tenant claims are configured.
struct OIDCClaims: JWTPayload {
    var values: [String: Value]

    /// A claim's JSON value; objects are kept only as "something else".
    enum Value: Codable, Sendable {
        case string(String)
        case number(Double)
        case array([Value])
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                self = .string(string)
            } else if let number = try? container.decode(Double.self) {
                self = .number(number)
            } else if let array = try? container.decode([Value].self) {
                self = .array(array)
            } else {
                self = .other
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let string): try container.encode(string)
            case .number(let number): try container.encode(number)
            case .array(let array): try container.encode(array)
            case .other: try container.encodeNil()
            }
        }
    }

    init(from decoder: any Decoder) throws {
        values = try decoder.singleValueContainer().decode([String: Value].self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }

    /// Checked by `OIDCVerifier` after the signature, so that each failure gets its own code.
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    func string(_ name: String) -> String? {
        if case .string(let value) = values[name] { value } else { nil }
    }

    func number(_ name: String) -> Double? {
        if case .number(let value) = values[name] { value } else { nil }
    }

    /// A claim that is one string or an array of strings (`aud`, `roles`).
    func strings(_ name: String) -> [String] {
        switch values[name] {
        case .string(let value): [value]
        case .array(let values): values.compactMap { if case .string(let value) = $0 { value } else { nil } }
        default: []
        }
    }
}

extension Data {
    /// Decodes base64url without padding (RFC 7515 §2).
    init?(base64URL encoded: some StringProtocol) {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
