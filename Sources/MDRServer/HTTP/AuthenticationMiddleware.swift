import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MDRDomain
import MDRStore

/// Resolves `Authorization: Bearer mdr_…` to a `Principal` with `TokenStore.authenticate` and hands it to the
/// handlers as `RequestPrincipal.current`. Every path but the public ones needs a valid token: a request without
/// one is answered `401` before its body is read. With OpenID Connect configured, a bearer shaped like a JWT goes to
/// `OIDCVerifier` instead (people signing in with the identity provider); everything else to the token store.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: TokenStore
    /// How long the token lookup may wait for the database.
    let timeout: Duration
    /// Paths served without a token (health checks, the OpenAPI document).
    let publicPaths: Set<String>
    /// Verifies OpenID Connect bearer JWTs; nil when `MDR_OIDC_ISSUER` is unset (JWTs are then unknown tokens).
    var oidc: OIDCVerifier? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if publicPaths.contains(request.uri.path) {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization] else { throw Problem.unauthenticated(invalidToken: false) }
        guard let token = Self.bearerToken(header) else { throw Problem.unauthenticated(invalidToken: true) }
        let principal: Principal
        if let oidc, OIDCVerifier.looksLikeJWT(token) {
            do {
                principal = try await oidc.principal(for: token)
            } catch {
                throw error.problem
            }
        } else {
            let tokens = self.tokens
            guard let found = try await withDeadline(timeout, { try await tokens.authenticate(token) }) else {
                throw Problem.unauthenticated(invalidToken: true)
            }
            principal = found
        }
        var context = context
        context.logger[metadataKey: "principal"] = "\(principal.id)"
        return try await RequestPrincipal.$current.withValue(principal) {
            try await next(request, context)
        }
    }

    /// The token of a `Bearer` credential (the scheme is case-insensitive, RFC 9110 §11.1).
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
