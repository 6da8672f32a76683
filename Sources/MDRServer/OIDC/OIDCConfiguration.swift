import Foundation
import MDRDomain

/// OpenID Connect bearer tokens for people (e.g. from Entra ID): which issuer and audience a token must name, where the
/// issuer's signing keys are, and how its claims map to a role and a tenant. Machines (connectors) keep using
/// `mdr_…` tokens: no claim value ever maps to `connector`.
public struct OIDCConfiguration: Sendable, Equatable {
    /// The `iss` every token must carry, exactly (`MDR_OIDC_ISSUER`), e.g.
    /// `https://login.microsoftonline.com/<directory-id>/v2.0`.
    /// Compared as a string, exactly as configured (OpenID Connect Core §3.1.3.7).
    public var issuer: String
    /// A value the token's `aud` must contain (`MDR_OIDC_AUDIENCE`): the API's application (client) id or its
    /// application id URI.
    public var audience: String
    /// The issuer's key set (`MDR_OIDC_JWKS_URL`); nil: discovered as `jwks_uri` of
    /// `<issuer>/.well-known/openid-configuration`.
    public var jwksURL: URL?
    /// The claim holding the user's role values (`MDR_OIDC_ROLES_CLAIM`; default `roles`, Entra ID's app roles).
    public var rolesClaim: String = "roles"
    /// The claim holding a customer's tenant id (`MDR_OIDC_TENANT_CLAIM`; default `mdr_tenant`).
    public var tenantClaim: String = "mdr_tenant"
    /// Role values of the token to our roles (`MDR_OIDC_ROLE_MAP`); values not listed are ignored.
    public var roleMap: [String: Role] = OIDCConfiguration.standardRoleMap
    /// How far `exp` and `nbf` may be off, for clocks that differ a little.
    public var leeway: Duration = .seconds(60)
    /// The least time between two fetches of the key set, so that tokens naming unknown keys cannot make the
    /// service hammer the identity provider (a rotation is picked up within this time).
    public var refetchInterval: Duration = .seconds(60)
    /// How long fetched keys are used before they are fetched again (keys the issuer withdrew stop working then).
    public var keysMaxAge: Duration = .seconds(3600)
    /// How long one fetch (discovery or key set) may take.
    public var fetchTimeout: Duration = .seconds(5)

    /// The app role values of `docs/operations.md`: `MDR.SOC`, `MDR.Dynamic`, `MDR.Customer`.
    public static let standardRoleMap: [String: Role] = ["MDR.SOC": .soc, "MDR.Dynamic": .dynamic, "MDR.Customer": .customer]

    public init(issuer: String, audience: String, jwksURL: URL? = nil) {
        self.issuer = issuer
        self.audience = audience
        self.jwksURL = jwksURL
    }

    /// The discovery document of the issuer (OpenID Connect Discovery 1.0 §4).
    var discoveryURL: URL {
        var base = issuer
        while base.hasSuffix("/") { base.removeLast() }
        // The issuer was checked to be a URL (`fetchableURL`); a path appended to it stays one.
        return URL(string: base + "/.well-known/openid-configuration") ?? URL(string: "https://invalid.invalid")!
    }
}

extension OIDCConfiguration {
    /// The configuration from `MDR_OIDC_*`, or nil when `MDR_OIDC_ISSUER` is unset or empty (OIDC off). Refuses
    /// unusable values by name, like the other settings.
    public static func fromEnvironment(_ environment: [String: String]) throws -> OIDCConfiguration? {
        func value(_ name: String) -> String? {
            environment[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        func invalid(_ description: String) -> ServerConfiguration.InvalidSetting {
            ServerConfiguration.InvalidSetting(description: description)
        }
        guard let rawIssuer = value("MDR_OIDC_ISSUER") else {
            for name in ["MDR_OIDC_AUDIENCE", "MDR_OIDC_JWKS_URL", "MDR_OIDC_ROLES_CLAIM", "MDR_OIDC_TENANT_CLAIM", "MDR_OIDC_ROLE_MAP"]
            where value(name) != nil {
                throw invalid("\(name) is set but MDR_OIDC_ISSUER is not: set the issuer to accept OpenID Connect tokens, or unset \(name)")
            }
            return nil
        }
        guard Self.fetchableURL(rawIssuer) != nil else {
            throw invalid("MDR_OIDC_ISSUER must be an https URL (http only for localhost), not '\(rawIssuer)'")
        }
        guard let audience = value("MDR_OIDC_AUDIENCE") else {
            throw invalid("MDR_OIDC_AUDIENCE must be set with MDR_OIDC_ISSUER: the API's application (client) id that tokens must name in 'aud'")
        }
        var configuration = OIDCConfiguration(issuer: rawIssuer, audience: audience)
        if let raw = value("MDR_OIDC_JWKS_URL") {
            guard let url = Self.fetchableURL(raw) else {
                throw invalid("MDR_OIDC_JWKS_URL must be an https URL (http only for localhost), not '\(raw)'")
            }
            configuration.jwksURL = url
        }
        if let claim = value("MDR_OIDC_ROLES_CLAIM") { configuration.rolesClaim = claim }
        if let claim = value("MDR_OIDC_TENANT_CLAIM") { configuration.tenantClaim = claim }
        if let raw = value("MDR_OIDC_ROLE_MAP") {
            configuration.roleMap = try roleMap(raw)
        }
        return configuration
    }

    /// `VALUE=role,VALUE=role` (e.g. `MDR.SOC=soc,MDR.Customer=customer`); roles `soc`, `dynamic`, `customer`.
    static func roleMap(_ raw: String) throws -> [String: Role] {
        var map: [String: Role] = [:]
        for entry in raw.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, let role = Role(rawValue: parts[1]) else {
                throw ServerConfiguration.InvalidSetting(
                    description: "MDR_OIDC_ROLE_MAP must be VALUE=ROLE pairs separated by commas (roles soc, dynamic, customer), not '\(entry)'")
            }
            guard role != .connector else {
                throw ServerConfiguration.InvalidSetting(
                    description: "MDR_OIDC_ROLE_MAP may not grant 'connector' ('\(entry)'): connectors use mdr_ tokens (mdr token create)")
            }
            guard map[parts[0]] == nil || map[parts[0]] == role else {
                throw ServerConfiguration.InvalidSetting(description: "MDR_OIDC_ROLE_MAP maps '\(parts[0])' to two roles")
            }
            map[parts[0]] = role
        }
        guard !map.isEmpty else {
            throw ServerConfiguration.InvalidSetting(description: "MDR_OIDC_ROLE_MAP names no role: unset it for the standard map")
        }
        return map
    }

    /// An absolute `https` URL, or `http` to a loopback host (a local identity provider, the tests): keys fetched
    /// over plain HTTP from elsewhere could be replaced on the way.
    static func fetchableURL(_ raw: String) -> URL? {
        guard let components = URLComponents(string: raw), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty, let url = components.url
        else { return nil }
        switch scheme {
        case "https": return url
        case "http": return ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host.lowercased()) ? url : nil
        default: return nil
        }
    }
}
