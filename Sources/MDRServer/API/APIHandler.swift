import Foundation
import MDRApplication
import MDRDomain
import MDRStore
import OpenAPIRuntime

/// Implements the operations of `openapi.yaml` (the generated `APIProtocol`): authorizes, turns the wire types
/// into domain commands, calls the application services, and turns their results back into wire types. Errors
/// are thrown, never returned: `ProblemMiddleware` renders them.
struct APIHandler: APIProtocol {
    let services: AppServices
    /// How long one request may wait for the database.
    let requestTimeout: Duration
    /// The OpenAPI document, served at `/openapi.yaml`.
    let document: Data
    /// The SLA board's page, served at `/board`.
    var board = Data()
    /// The live feed's poll and heartbeat intervals.
    var streamPollInterval: Duration = .milliseconds(500)
    var streamHeartbeat: Duration = .seconds(15)

    /// The paths served without a token.
    static let publicPaths: Set<String> = ["/health/live", "/health/ready", "/openapi.yaml", "/board"]

    /// The bundled `openapi.yaml`.
    static func loadDocument() throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw DocumentMissing()
        }
        return try Data(contentsOf: url)
    }

    /// The bundled SLA board (`Board/board.html`).
    static func loadBoard() throws -> Data {
        guard let url = Bundle.module.url(forResource: "board", withExtension: "html", subdirectory: "Board") else {
            throw DocumentMissing()
        }
        return try Data(contentsOf: url)
    }

    struct DocumentMissing: Error, CustomStringConvertible {
        var description: String { "openapi.yaml or Board/board.html is missing from the MDRServer bundle" }
    }

    // MARK: Helpers shared by the operations

    /// Runs the database work of a request under the request deadline (PostgresNIO's pool has no lease timeout).
    func withinDeadline<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withDeadline(requestTimeout, work)
    }

    /// The caller, allowed to do `action` on the tenant named in the path. A tenant-bound token naming another
    /// tenant, and a malformed tenant id, both get `404 tenant_not_found`.
    func authorize(_ action: Action, tenant raw: String) throws -> (Principal, TenantID) {
        let principal = try RequestPrincipal.required()
        let tenant = TenantID(rawValue: raw)
        try AccessPolicy.authorize(principal, action, tenant: tenant)
        guard let tenant else { throw DomainError.tenantNotFound(raw) }
        return (principal, tenant)
    }

    /// The caller, allowed to read across tenants (the SOC and Dynamic). A tenant-scoped role gets `403 forbidden`,
    /// with `refusal` (e.g. "reads incidents under /v1/tenants/{tenantId}/incidents") telling it where to look instead.
    @discardableResult
    func authorizeAcrossTenants(_ refusal: String) throws -> Principal {
        let principal = try RequestPrincipal.required()
        guard !principal.role.isTenantScoped else {
            throw DomainError(.forbidden, .forbidden, "the role '\(principal.role.rawValue)' \(refusal)")
        }
        try AccessPolicy.authorize(principal, .readSecurityViews, tenant: nil)
        return principal
    }

    /// The command's context from the request headers. Without `X-Correlation-ID`, the request gets an id of its
    /// own, so everything one request causes stays tied together.
    /// The headers are taken as sent (`CommandHeaders`) when the request came through `CommandHeadersMiddleware`:
    /// the generated code's values are percent-decoded.
    func commandContext(_ principal: Principal, idempotencyKey: String?, correlationID: String?) throws -> CommandContext {
        let sent = CommandHeaders.current
        let idempotencyKey = sent.map(\.idempotencyKey) ?? idempotencyKey
        let correlationID = sent.map(\.correlationID) ?? correlationID
        if let correlationID, correlationID.isEmpty || correlationID.unicodeScalars.count > 200 {
            throw Problem.badRequest("X-Correlation-ID must be 1–200 characters")
        }
        return CommandContext(
            principal: principal, commandID: idempotencyKey, correlationID: correlationID ?? UUID().uuidString.lowercased())
    }

    /// The value of `Idempotent-Replayed`: present (true) only on a replay.
    func replayed<R>(_ outcome: CommandOutcome<R>) -> Bool? {
        outcome.repeated ? true : nil
    }

    func incidentID(_ raw: String) throws -> IncidentID {
        guard let id = IncidentID(raw) else { throw DomainError(.incidentNotFound, .notFound, "incident '\(raw.prefix(80))' not found") }
        return id
    }

    func deviceID(_ raw: String) throws -> DeviceID {
        guard let id = DeviceID(rawValue: raw) else {
            throw DomainError(.deviceNotFound, .notFound, "device '\(raw.prefix(80))' not found: a device id is 1–200 characters without '/'")
        }
        return id
    }
}

extension DomainError.Code {
    /// A device id in a path that no device can have.
    public static let deviceNotFound: Self = "device_not_found"
}

extension DomainError {
    static func tenantNotFound(_ raw: String) -> DomainError {
        DomainError(.tenantNotFound, .notFound, "tenant '\(raw.prefix(80))' not found")
    }
}
