import HTTPTypes
import Hummingbird

/// Refuses request bodies over `maxBytes` with `413 payload_too_large`. The OpenAPI runtime collects bodies
/// without a limit, so this collects them first, up to the limit (a declared `Content-Length` over it is refused
/// without reading anything).
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maxBytes {
            throw Problem.payloadTooLarge(limit: maxBytes)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maxBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw Problem.payloadTooLarge(limit: maxBytes)
        }
        return try await next(request, context)
    }
}
