import Foundation
import Hummingbird

/// Refuses a JSON or NDJSON body with an object that names a key twice (`400 bad_request`, naming where), before any
/// handler reads it: see `JSONDuplicateKeys`. Runs after `BodyLimitMiddleware`, which has collected the body.
struct DuplicateKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let type = request.headers[.contentType]?.lowercased(), Self.isJSON(type) else {
            return try await next(request, context)
        }
        let body = try await request.body.collect(upTo: .max)
        if let finding = JSONDuplicateKeys.find(in: body.readableBytesView) {
            throw Problem.badRequest("\(finding.path): the key appears twice in one object; send each key once")
        }
        return try await next(request, context)
    }

    /// `application/json`, a `+json` type, or NDJSON (`application/x-ndjson`).
    static func isJSON(_ contentType: String) -> Bool {
        let essence = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return essence == "application/json" || essence.hasSuffix("+json") || essence == "application/x-ndjson"
    }
}
