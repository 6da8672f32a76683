import HTTPTypes
import Hummingbird

/// The security headers of the pages the service serves (`/board`). Set here, not in the OpenAPI document: the
/// generated code percent-encodes header values, which no browser reads as a policy.
struct PageHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The board runs only its own inline script and style, talks only to this service, and is framed by no one.
    static var boardPolicy: String {
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        guard request.uri.path == "/board", response.status == .ok else { return response }
        response.headers[HTTPField.Name("Content-Security-Policy")!] = Self.boardPolicy
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
