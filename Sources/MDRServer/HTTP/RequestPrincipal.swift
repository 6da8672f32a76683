import MDRDomain

/// The principal of the request being handled, set by `AuthenticationMiddleware` for the handlers below it (the
/// generated OpenAPI handlers see no request context, so it travels as a task-local value).
enum RequestPrincipal {
    @TaskLocal static var current: Principal?

    /// The authenticated principal, or `401 unauthenticated`.
    static func required() throws -> Principal {
        guard let principal = current else { throw Problem.unauthenticated(invalidToken: false) }
        return principal
    }
}
