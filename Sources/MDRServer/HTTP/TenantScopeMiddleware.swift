import Hummingbird
import MDRDomain
import MDRStore

/// Runs the request of a tenant-scoped principal (a customer or a connector) inside `Database.withTenantScope`, so
/// that PostgreSQL's row-level security confines every query it makes to its own tenant (migration 0010). The SOC's
/// and Dynamic's requests, which read across tenants, run as before.
///
/// It sits after authentication, the rate limit and the body limit: a connection is held only while the handler runs,
/// never while a slow client sends its body.
struct TenantScopeMiddleware<Context: RequestContext>: RouterMiddleware {
    let database: Database

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let principal = RequestPrincipal.current, principal.role.isTenantScoped, let tenant = principal.tenant else {
            return try await next(request, context)
        }
        return try await database.withTenantScope(tenant) { try await next(request, context) }
    }
}
