import Hummingbird

/// On an instance of the `workers` role: the health checks, `/metrics` and the document are served, every other path
/// is answered `404 not_found` saying where the API is, before anything else is done with the request.
struct WorkersOnlyMiddleware<Context: RequestContext>: RouterMiddleware {
    static var served: Set<String> { ["/health/live", "/health/ready", "/metrics", "/openapi.yaml"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.served.contains(request.uri.path) else {
            throw Problem(
                status: .notFound, code: "not_found",
                detail: "this instance runs background work only (MDR_ROLE=workers): send API requests to an instance of the api or all role")
        }
        return try await next(request, context)
    }
}
