import Foundation
import MDRApplication
import MDRConnectors
import MDRDomain
import MDRStore
import OpenAPIRuntime

// MARK: - Health and the document

extension APIHandler {
    func getLiveness(_ input: Operations.GetLiveness.Input) async throws -> Operations.GetLiveness.Output {
        .ok(.init(body: .json(.init(status: "ok"))))
    }

    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        guard await services.database.ping() else {
            throw Problem.databaseNotReady
        }
        let stalled = services.workers.stalled()
        guard stalled.isEmpty else {
            throw Problem.workersStalled(stalled, bound: services.workers.stallBound)
        }
        return .ok(.init(body: .json(.init(status: "ok"))))
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(document))))
    }

    func getSlaBoard(_ input: Operations.GetSlaBoard.Input) async throws -> Operations.GetSlaBoard.Output {
        // Its Content-Security-Policy is set by `PageHeadersMiddleware`.
        .ok(.init(body: .html(HTTPBody(board))))
    }
}

// MARK: - Tenants

extension APIHandler {
    func onboardTenant(_ input: Operations.OnboardTenant.Input) async throws -> Operations.OnboardTenant.Output {
        let principal = try RequestPrincipal.required()
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        try AccessPolicy.authorize(principal, .onboardTenant, tenant: TenantID(rawValue: body.tenantId))
        let command = try OnboardTenant(body)
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline { try await commands.onboardTenant(command, context: context) }
        return .created(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func getTenant(_ input: Operations.GetTenant.Input) async throws -> Operations.GetTenant.Output {
        let (_, tenant) = try authorize(.readTenant, tenant: input.path.tenantId)
        let queries = services.queries
        guard let found = try await withinDeadline({ try await queries.tenant(tenant) }) else {
            throw DomainError.tenantNotFound(tenant.rawValue)
        }
        return .ok(.init(body: .json(.init(found))))
    }
}

// MARK: - Signals

extension APIHandler {
    func ingestSignals(_ input: Operations.IngestSignals.Input) async throws -> Operations.IngestSignals.Output {
        let (principal, tenant) = try authorize(.ingestSignals, tenant: input.path.tenantId)
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        // The items are free-form objects in the contract so that the parser judges each on its own.
        let bytes = try Self.canonicalJSON(body)
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline { try await commands.ingestNativeSignals(tenant: tenant, body: bytes, context: context) }
        services.metrics.recordIngest(format: "native", outcome)
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func ingestGraphAlerts(_ input: Operations.IngestGraphAlerts.Input) async throws -> Operations.IngestGraphAlerts.Output {
        let (principal, tenant) = try authorize(.ingestSignals, tenant: input.path.tenantId)
        let bytes: Data
        switch input.body {
        case .json(let body): bytes = try Self.canonicalJSON(body)
        // NDJSON is passed on as received: the parser splits it into alerts, one per line.
        case .applicationXNdjson(let body): bytes = try await Data(collecting: body, upTo: .max)
        }
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline { try await commands.ingestGraphAlerts(tenant: tenant, body: bytes, context: context) }
        services.metrics.recordIngest(format: "graph", outcome)
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func ingestCEFEvents(_ input: Operations.IngestCEFEvents.Input) async throws -> Operations.IngestCEFEvents.Output {
        let (principal, tenant) = try authorize(.ingestSignals, tenant: input.path.tenantId)
        guard case .plainText(let body) = input.body else { throw Problem.badRequest("expected a text/plain body") }
        // `BodyLimitMiddleware` has already collected the body within the limit.
        let bytes = try await [UInt8](collecting: body, upTo: .max)
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline { try await commands.ingestCEF(tenant: tenant, utf8: bytes, context: context) }
        services.metrics.recordIngest(format: "cef", outcome)
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    /// A free-form JSON body as bytes with sorted keys: the bytes, and so the idempotency fingerprint, do not depend
    /// on the client's key order and spacing.
    static func canonicalJSON(_ body: some Encodable) throws -> Data {
        try JSONCoding.encoder().encode(body)
    }
}

// MARK: - Incidents

extension APIHandler {
    func getIncident(_ input: Operations.GetIncident.Input) async throws -> Operations.GetIncident.Output {
        let (principal, tenant) = try authorize(.readSecurityViews, tenant: input.path.tenantId)
        let id = try incidentID(input.path.incidentId)
        let queries = services.queries
        guard var (incident, events) = try await withinDeadline({ try await queries.incident(tenant: tenant, id) }) else {
            throw DomainError(.incidentNotFound, .notFound, "incident \(id) not found")
        }
        // The SOC's working notes are the SOC's (and Dynamic's): a customer reads the incident without them.
        if principal.role == .customer { incident.notes = nil }
        return .ok(.init(body: .json(.init(incident, timeline: events))))
    }

    func confirmIncident(_ input: Operations.ConfirmIncident.Input) async throws -> Operations.ConfirmIncident.Output {
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let priority = Priority(body.priority)
        let (incident, replayed) = try await incidentCommand(input.path.tenantId, input.path.incidentId, input.headers.idempotencyKey, input.headers.xCorrelationID) {
            try await $0.confirmIncident(tenant: $1, incident: $2, priority: priority, summary: body.summary, context: $3)
        }
        return .ok(.init(headers: .init(idempotentReplayed: replayed), body: .json(incident)))
    }

    func dismissIncident(_ input: Operations.DismissIncident.Input) async throws -> Operations.DismissIncident.Output {
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let classification = DismissalClassification(body.classification)
        let (incident, replayed) = try await incidentCommand(input.path.tenantId, input.path.incidentId, input.headers.idempotencyKey, input.headers.xCorrelationID) {
            try await $0.dismissIncident(tenant: $1, incident: $2, classification: classification, reason: body.reason, context: $3)
        }
        return .ok(.init(headers: .init(idempotentReplayed: replayed), body: .json(incident)))
    }

    func mergeIncident(_ input: Operations.MergeIncident.Input) async throws -> Operations.MergeIncident.Output {
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let (incident, replayed) = try await incidentCommand(input.path.tenantId, input.path.incidentId, input.headers.idempotencyKey, input.headers.xCorrelationID) {
            guard let into = IncidentID(body.into) else {
                throw DomainError(.invalidField, .invalid, "into: '\(body.into.prefix(80))' is not an incident id")
            }
            return try await $0.mergeIncident(tenant: $1, incident: $2, into: into, reason: body.reason, context: $3)
        }
        return .ok(.init(headers: .init(idempotentReplayed: replayed), body: .json(incident)))
    }

    func assignIncident(_ input: Operations.AssignIncident.Input) async throws -> Operations.AssignIncident.Output {
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let (incident, replayed) = try await incidentCommand(input.path.tenantId, input.path.incidentId, input.headers.idempotencyKey, input.headers.xCorrelationID) {
            try await $0.assignIncident(tenant: $1, incident: $2, to: body.assignee, context: $3)
        }
        return .ok(.init(headers: .init(idempotentReplayed: replayed), body: .json(incident)))
    }

    func addIncidentNote(_ input: Operations.AddIncidentNote.Input) async throws -> Operations.AddIncidentNote.Output {
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let (incident, replayed) = try await incidentCommand(input.path.tenantId, input.path.incidentId, input.headers.idempotencyKey, input.headers.xCorrelationID) {
            try await $0.addIncidentNote(tenant: $1, incident: $2, text: body.text, context: $3)
        }
        return .ok(.init(headers: .init(idempotentReplayed: replayed), body: .json(incident)))
    }

    func resolveIncident(_ input: Operations.ResolveIncident.Input) async throws -> Operations.ResolveIncident.Output {
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let (incident, replayed) = try await incidentCommand(input.path.tenantId, input.path.incidentId, input.headers.idempotencyKey, input.headers.xCorrelationID) {
            try await $0.resolveIncident(tenant: $1, incident: $2, resolution: body.resolution, context: $3)
        }
        return .ok(.init(headers: .init(idempotentReplayed: replayed), body: .json(incident)))
    }

    /// The path of every command on an incident (the SOC's): authorize on the tenant, read the incident id, carry the
    /// command out under the request deadline, and answer the incident it left, with whether it was a replay.
    private func incidentCommand(
        _ tenantId: String, _ incidentId: String, _ idempotencyKey: String?, _ correlationID: String?,
        _ run: @escaping @Sendable (CommandService, TenantID, IncidentID, CommandContext) async throws -> CommandOutcome<Incident>
    ) async throws -> (Components.Schemas.Incident, Bool?) {
        let (principal, tenant) = try authorize(.triageIncident, tenant: tenantId)
        let id = try incidentID(incidentId)
        let context = try commandContext(principal, idempotencyKey: idempotencyKey, correlationID: correlationID)
        let commands = services.commands
        let outcome = try await withinDeadline { try await run(commands, tenant, id, context) }
        return (.init(outcome.result, timeline: nil), replayed(outcome))
    }
}

// MARK: - Devices

extension APIHandler {
    func getDevice(_ input: Operations.GetDevice.Input) async throws -> Operations.GetDevice.Output {
        let (_, tenant) = try authorize(.readSecurityViews, tenant: input.path.tenantId)
        let device = try deviceID(input.path.deviceId)
        let queries = services.queries
        // Any device id answers `none` until isolated, so the tenant itself must exist.
        let found = try await withinDeadline { () -> DeviceIsolation? in
            guard try await queries.tenant(tenant) != nil else { return nil }
            return try await queries.device(tenant: tenant, device)
        }
        guard let found else { throw DomainError.tenantNotFound(tenant.rawValue) }
        return .ok(.init(body: .json(.init(found))))
    }

    func isolateDevice(_ input: Operations.IsolateDevice.Input) async throws -> Operations.IsolateDevice.Output {
        let (principal, tenant) = try authorize(.isolateDevice, tenant: input.path.tenantId)
        let device = try deviceID(input.path.deviceId)
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        guard let incident = IncidentID(body.incidentId) else {
            throw DomainError(.invalidField, .invalid, "incidentId: '\(body.incidentId.prefix(80))' is not an incident id (a UUID)")
        }
        let type = IsolationType(body.isolationType ?? .full)
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline {
            try await commands.isolateDevice(
                tenant: tenant, device: device, incident: incident, type: type, comment: body.comment, context: context)
        }
        return .accepted(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func releaseDevice(_ input: Operations.ReleaseDevice.Input) async throws -> Operations.ReleaseDevice.Output {
        let (principal, tenant) = try authorize(.releaseDevice, tenant: input.path.tenantId)
        let device = try deviceID(input.path.deviceId)
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline {
            try await commands.releaseDevice(tenant: tenant, device: device, reason: body.reason, context: context)
        }
        return .accepted(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }
}

// MARK: - Suppression rules

extension APIHandler {
    func listSuppressionRules(_ input: Operations.ListSuppressionRules.Input) async throws -> Operations.ListSuppressionRules.Output {
        let (_, tenant) = try authorize(.readSuppressionRules, tenant: input.path.tenantId)
        let queries = services.queries
        guard let rules = try await withinDeadline({ try await queries.suppressionRules(tenant) }) else {
            throw DomainError.tenantNotFound(tenant.rawValue)
        }
        let now = services.commands.time.now()
        return .ok(.init(body: .json(.init(rules: rules.map { .init($0, now: now) }))))
    }

    func listConnectors(_ input: Operations.ListConnectors.Input) async throws -> Operations.ListConnectors.Output {
        let (_, tenant) = try authorize(.readConnectors, tenant: input.path.tenantId)
        let (queries, connectors) = (services.queries, GraphConnectionStore(database: services.database))
        let (exists, graph) = try await withinDeadline {
            (try await queries.tenant(tenant) != nil, try await connectors.connection(tenant: tenant))
        }
        guard exists else { throw DomainError.tenantNotFound(tenant.rawValue) }
        let now = services.commands.time.now()
        return .ok(.init(body: .json(.init(connectors: graph.map { [.init($0, now: now)] } ?? []))))
    }

    func addSuppressionRule(_ input: Operations.AddSuppressionRule.Input) async throws -> Operations.AddSuppressionRule.Output {
        let (principal, tenant) = try authorize(.manageSuppressionRules, tenant: input.path.tenantId)
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let match = try SuppressionMatch(body.match)
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline {
            try await commands.addSuppressionRule(
                tenant: tenant, match: match, reason: body.reason ?? "", expiresAt: body.expiresAt, context: context)
        }
        let now = commands.time.now()
        return .created(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result, now: now))))
    }

    func expireSuppressionRule(_ input: Operations.ExpireSuppressionRule.Input) async throws -> Operations.ExpireSuppressionRule.Output {
        let (principal, tenant) = try authorize(.manageSuppressionRules, tenant: input.path.tenantId)
        guard let rule = UUID(uuidString: input.path.ruleId) else {
            throw DomainError(.suppressionRuleNotFound, .notFound, "suppression rule '\(input.path.ruleId.prefix(80))' not found")
        }
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline { try await commands.expireSuppressionRule(tenant: tenant, rule: rule, context: context) }
        let now = commands.time.now()
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result, now: now))))
    }
}

// MARK: - The event log

extension APIHandler {
    static let maxPageSize = 1000

    func listEvents(_ input: Operations.ListEvents.Input) async throws -> Operations.ListEvents.Output {
        let (_, tenant) = try authorize(.readEventLog, tenant: input.path.tenantId)
        let after = input.query.after ?? 0
        let limit = input.query.limit ?? 100
        guard after >= 0 else { throw Problem.badRequest("after must be 0 or a position") }
        guard (1...Self.maxPageSize).contains(limit) else { throw Problem.badRequest("limit must be 1–\(Self.maxPageSize)") }
        let store = services.store
        // The head is read after the page, so it is never behind the page's last position.
        let (events, head) = try await withinDeadline {
            let events = try await store.readLog(tenant: tenant, after: after, limit: limit)
            return (events, try await store.head(tenant: tenant))
        }
        guard head > 0 else { throw DomainError.tenantNotFound(tenant.rawValue) }
        let page = Components.Schemas.EventPage(
            events: try events.map(Components.Schemas.LoggedEvent.init), head: head, nextAfter: events.last?.position ?? after)
        return .ok(.init(body: .json(page)))
    }
}
