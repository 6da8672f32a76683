import Hummingbird
import Logging
import OpenAPIRuntime

/// Renders every error thrown below it as `application/problem+json`, once, and logs server-side failures with
/// their full text (which the answer never shows).
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Problem(classifying: error)
            let metadata: Logger.Metadata = [
                "http.method": "\(request.method)", "http.path": "\(request.uri.path)", "http.status": "\(problem.status.code)",
                "error.code": "\(problem.code)",
            ]
            if problem.code == "ingest_backpressure" {
                // Expected under load and answered with Retry-After: the lag is in /metrics, not one line per request.
                context.logger.debug("request refused: \(problem.detail)", metadata: metadata)
            } else if problem.status.kind == .serverError {
                context.logger.error("request failed: \(Self.describe(error))", metadata: metadata)
            } else {
                context.logger.debug("request refused: \(problem.detail)", metadata: metadata)
            }
            return problem.response()
        }
    }

    /// The full text of a failure, for the log. The OpenAPI runtime's `ServerError` describes the whole request,
    /// headers included, and so the caller's bearer token (found by ops/fuzz in the log of a 500): only its
    /// operation, cause and underlying error are logged.
    static func describe(_ error: any Error) -> String {
        guard let server = error as? OpenAPIRuntime.ServerError else { return String(reflecting: error) }
        return "\(server.operationID): \(server.causeDescription): \(String(reflecting: server.underlyingError))"
    }
}
