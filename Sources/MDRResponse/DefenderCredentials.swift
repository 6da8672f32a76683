import Foundation

/// Where and as whom to call Microsoft Defender for Endpoint for one customer tenant.
///
/// `description` and `debugDescription` leave the client secret out, so the value can be logged.
public struct DefenderCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The API root, e.g. `https://api.securitycenter.microsoft.com` or a regional `https://eu.api.security.microsoft.com`.
    public var baseURL: String
    /// The identity platform root; the token URL is `{authority}/{tenantID}/oauth2/v2.0/token`.
    public var authority: String
    /// The customer's Entra tenant id.
    public var tenantID: String
    /// The application (client) id of the app registration in that tenant.
    public var clientID: String
    /// The client secret of that app registration. Never logged.
    public var clientSecret: String
    /// The OAuth2 scope asked for.
    public var scope: String

    /// Makes credentials; defaults are Microsoft's public cloud.
    public init(
        baseURL: String = "https://api.securitycenter.microsoft.com",
        authority: String = "https://login.microsoftonline.com",
        tenantID: String,
        clientID: String,
        clientSecret: String,
        scope: String = "https://api.securitycenter.microsoft.com/.default"
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.authority = authority.hasSuffix("/") ? String(authority.dropLast()) : authority
        self.tenantID = tenantID
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.scope = scope
    }

    /// `POST` here for a client-credentials token.
    public var tokenURL: String { "\(authority)/\(tenantID)/oauth2/v2.0/token" }

    /// Everything but the secret.
    public var description: String {
        "DefenderCredentials(baseURL: \(baseURL), tokenURL: \(tokenURL), clientID: \(clientID), clientSecret: <redacted>)"
    }

    /// Everything but the secret.
    public var debugDescription: String { description }
}
