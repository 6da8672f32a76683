import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Where and as whom to call a Microsoft API for one customer tenant: an Entra ID app registration in that tenant,
/// with a client-credentials grant. Defender for Endpoint (the responder) and Microsoft Graph (the alerts connector)
/// are called this way.
///
/// `description` and `debugDescription` leave the client secret out, so the value can be logged.
public struct EntraAppCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The API root, e.g. `https://api.securitycenter.microsoft.com`, a regional `https://eu.api.security.microsoft.com`,
    /// or `https://graph.microsoft.com`.
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
        "EntraAppCredentials(baseURL: \(baseURL), tokenURL: \(tokenURL), clientID: \(clientID), clientSecret: <redacted>)"
    }

    /// Everything but the secret.
    public var debugDescription: String { description }
}

/// Defender for Endpoint's credentials: an Entra app registration (the defaults are Defender's).
public typealias DefenderCredentials = EntraAppCredentials

extension EntraAppCredentials {
    /// The client-credentials token request to `tokenURL`.
    public var tokenRequest: HTTPClientRequest {
        var request = HTTPClientRequest(url: tokenURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: tokenRequestForm))
        return request
    }

    /// The form of the token request (it holds the secret: never logged).
    var tokenRequestForm: String {
        [("grant_type", "client_credentials"), ("client_id", clientID), ("client_secret", clientSecret), ("scope", scope)]
            .map { "\($0)=\(Self.formEscape($1))" }.joined(separator: "&")
    }

    /// The token and its lifetime in seconds from the token endpoint's answer, or nil when it has neither.
    public static func decodeToken(_ body: Data) -> (token: String, expiresIn: Int)? {
        struct TokenResponse: Decodable {
            var access_token: String
            var expires_in: Int
        }
        return (try? JSONDecoder().decode(TokenResponse.self, from: body)).map { ($0.access_token, $0.expires_in) }
    }

    /// `application/x-www-form-urlencoded` escaping of one value.
    static func formEscape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
