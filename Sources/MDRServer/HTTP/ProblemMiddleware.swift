import Hummingbird
import Logging

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
            if problem.status.kind == .serverError {
                context.logger.error("request failed: \(String(reflecting: error))", metadata: metadata)
            } else {
                context.logger.debug("request refused: \(problem.detail)", metadata: metadata)
            }
            return problem.response()
        }
    }
}
