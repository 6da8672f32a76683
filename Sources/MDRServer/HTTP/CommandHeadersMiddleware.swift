import HTTPTypes
import Hummingbird
import NIOCore

/// The `Idempotency-Key` and `X-Correlation-ID` of the request being handled, exactly as sent.
///
/// The generated OpenAPI code decodes header values as URI components (percent-decoding them), so a key such as
/// `batch%2F7` reached the handlers as `batch/7`, and one with a stray `%` (`50%off`) as an empty text that was
/// refused as "must be 1–200 characters" (found by ops/fuzz). These are opaque texts: `commandContext` takes them
/// from here, as the ingest routes (`SignalBatchMiddleware`) always did from the raw request.
struct CommandHeaders: Sendable {
    var idempotencyKey: String?
    var correlationID: String?

    @TaskLocal static var current: CommandHeaders?
}

/// Sets `CommandHeaders.current` for the handlers below it.
struct CommandHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let headers = CommandHeaders(
            idempotencyKey: request.headers[SignalBatchRoute.idempotencyKey], correlationID: request.headers[SignalBatchRoute.correlationID])
        return try await CommandHeaders.$current.withValue(headers) { try await next(request, context) }
    }
}

/// A command whose JSON body is optional (`requestBody.required: false` in the document: `POST …/hand-over`) may
/// be sent without a body. The OpenAPI transport hands an empty body on as present, and decoding it as JSON failed
/// with `400 bad_request` (found by ops/fuzz); this passes such a request on with the body `{}` (every field
/// optional: the defaults apply). Runs after `BodyLimitMiddleware`, which has collected the body.
struct EmptyOptionalBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Last path segments of the POST operations whose JSON body is optional.
    static var optionalBodySuffixes: [String] { ["/hand-over"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, Self.optionalBodySuffixes.contains(where: { request.uri.path.hasSuffix($0) }) else {
            return try await next(request, context)
        }
        var request = request
        let body = try await request.collectBody(upTo: .max) // already collected, within the limit, by BodyLimitMiddleware
        guard body.readableBytes == 0 else { return try await next(request, context) }
        var head = request.head
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.contentLength] = "2"
        return try await next(Request(head: head, body: RequestBody(buffer: ByteBuffer(string: "{}"))), context)
    }
}
