import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import MDRStore
import OpenAPIRuntime

// MARK: - Views (read models built by the projections)

extension APIHandler {
    static let maxIncidentPage = 500
    static let maxStatisticsDays = 366

    func listIncidents(_ input: Operations.ListIncidents.Input) async throws -> Operations.ListIncidents.Output {
        // Across tenants: the SOC and Dynamic. A customer reads its own tenant's list (`listTenantIncidents`).
        try authorizeAcrossTenants("reads incidents under /v1/tenants/{tenantId}/incidents")
        var tenants: [TenantID]? = nil
        if let raw = input.query.tenant {
            guard let tenant = TenantID(rawValue: raw) else { throw Problem.badRequest("tenant: '\(raw.prefix(80))' is not a tenant id") }
            tenants = [tenant]
        }
        let q = input.query
        let page = try await incidentPage(
            tenants: tenants, status: q.status?.rawValue, priority: q.priority, from: q.from, to: q.to, device: q.device, user: q.user,
            assignee: q.assignee, unassigned: q.unassigned ?? false, limit: q.limit, cursor: q.cursor)
        return .ok(.init(body: .json(page)))
    }

    func listTenantIncidents(_ input: Operations.ListTenantIncidents.Input) async throws -> Operations.ListTenantIncidents.Output {
        let (_, tenant) = try authorize(.readSecurityViews, tenant: input.path.tenantId)
        try await requireTenant(tenant)
        let q = input.query
        let page = try await incidentPage(
            tenants: [tenant], status: q.status?.rawValue, priority: q.priority, from: q.from, to: q.to, device: q.device, user: q.user,
            assignee: q.assignee, unassigned: q.unassigned ?? false, limit: q.limit, cursor: q.cursor)
        return .ok(.init(body: .json(page)))
    }

    func listDevices(_ input: Operations.ListDevices.Input) async throws -> Operations.ListDevices.Output {
        let (_, tenant) = try authorize(.readSecurityViews, tenant: input.path.tenantId)
        try await requireTenant(tenant)
        let state = input.query.state.map { IsolationState(rawValue: $0.rawValue)! }
        let views = services.views
        let devices = try await withinDeadline { try await views.devices(tenant: tenant, state: state) }
        return .ok(.init(body: .json(.init(devices: devices.map(Components.Schemas.DeviceState.init)))))
    }

    func getDeviceHistory(_ input: Operations.GetDeviceHistory.Input) async throws -> Operations.GetDeviceHistory.Output {
        let (_, tenant) = try authorize(.readSecurityViews, tenant: input.path.tenantId)
        let device = try deviceID(input.path.deviceId)
        try await requireTenant(tenant)
        let views = services.views
        let (state, history) = try await withinDeadline {
            (try await views.device(tenant: tenant, device: device), try await views.deviceHistory(tenant: tenant, device: device))
        }
        guard let state else {
            throw DomainError(.deviceNotFound, .notFound, "device '\(device.rawValue.prefix(80))' not found: no signal or isolation of this tenant named it")
        }
        return .ok(.init(body: .json(.init(device: .init(state), history: history.map(Components.Schemas.DeviceChange.init)))))
    }

    func getSignalStatistics(_ input: Operations.GetSignalStatistics.Input) async throws -> Operations.GetSignalStatistics.Output {
        let (_, tenant) = try authorize(.readSecurityViews, tenant: input.path.tenantId)
        let to = try input.query.to.map { raw throws(DomainError) in try CalendarDate.field("to", raw) } ?? BusinessClock.standard.localDate(of: services.commands.time.now())
        let from = try input.query.from.map { raw throws(DomainError) in try CalendarDate.field("from", raw) } ?? CalendarDate(dayNumber: to.dayNumber - 30) ?? to
        guard from <= to else { throw Problem.badRequest("from must not be after to") }
        guard to.dayNumber - from.dayNumber < Self.maxStatisticsDays else {
            throw Problem.badRequest("at most \(Self.maxStatisticsDays) days per request")
        }
        try await requireTenant(tenant)
        let views = services.views
        let rows = try await withinDeadline { try await views.signalStatistics(tenant: tenant, from: from, to: to) }
        return .ok(
            .init(
                body: .json(
                    .init(
                        from: from.description, to: to.description,
                        rows: rows.map {
                            .init(
                                day: $0.day.description, source: .init(rawValue: $0.source.rawValue)!, outcome: .init(rawValue: $0.outcome.rawValue)!,
                                signals: $0.signals)
                        }))))
    }

    func getProjectionLag(_ input: Operations.GetProjectionLag.Input) async throws -> Operations.GetProjectionLag.Output {
        try authorizeAcrossTenants("may not read the projections' lag")
        let views = services.views
        let lags = try await withinDeadline { try await views.lag() }
        let names = ReadModels.standard().map(\.name)
        let report = names.map { name -> Components.Schemas.ProjectionLag in
            let mine = lags.filter { $0.consumer == name }
            return .init(
                name: name, eventsBehind: mine.reduce(0) { $0 + $1.eventsBehind }, secondsBehind: mine.map(\.secondsBehind).max() ?? 0,
                tenants: mine.map {
                    .init(
                        tenantId: $0.tenant.rawValue, head: $0.head, checkpoint: $0.checkpoint, eventsBehind: $0.eventsBehind,
                        secondsBehind: $0.secondsBehind)
                })
        }
        return .ok(.init(body: .json(.init(projections: report))))
    }

    // MARK: Helpers

    /// `404 tenant_not_found` unless the tenant was onboarded (the views are empty for unknown tenants too).
    func requireTenant(_ tenant: TenantID) async throws {
        let queries = services.queries
        guard try await withinDeadline({ try await queries.tenant(tenant) != nil }) else { throw DomainError.tenantNotFound(tenant.rawValue) }
    }

    func incidentPage(
        tenants: [TenantID]?, status: String?, priority: Components.Schemas.Priority?, from: Date?, to: Date?, device: String?, user: String?,
        assignee: String?, unassigned: Bool, limit: Int?, cursor: String?
    ) async throws -> Components.Schemas.IncidentList {
        let limit = limit ?? 50
        guard (1...Self.maxIncidentPage).contains(limit) else { throw Problem.badRequest("limit must be 1–\(Self.maxIncidentPage)") }
        let after = try cursor.map { raw in
            guard let parsed = IncidentCursor(raw) else { throw Problem.badRequest("cursor: not a cursor this API returned") }
            return parsed
        }
        let deviceID = try device.map { raw in
            guard let id = DeviceID(rawValue: raw) else { throw Problem.badRequest("device: '\(raw.prefix(80))' is not a device id") }
            return id
        }
        let filter = IncidentFilter(
            status: status.flatMap(IncidentStatus.init(rawValue:)), priority: priority.map { Priority(rawValue: $0.rawValue)! }, from: from, to: to,
            device: deviceID, user: user, assignee: assignee, unassigned: unassigned)
        let views = services.views
        let page = try await withinDeadline { try await views.incidents(tenants: tenants, filter: filter, limit: limit, after: after) }
        return .init(incidents: page.incidents.map(Components.Schemas.IncidentListItem.init), next: page.next?.description)
    }
}

extension Components.Schemas.IncidentListItem {
    init(_ i: IncidentSummary) {
        self.init(
            tenantId: i.tenant.rawValue, incidentId: i.id.description, status: .init(rawValue: i.status.rawValue)!,
            priority: i.priority.map { .init(rawValue: $0.rawValue)! }, candidatePriority: i.candidatePriority.map { .init(rawValue: $0.rawValue)! },
            severity: .init(rawValue: i.severity.rawValue)!, summary: i.summary, openedAt: i.openedAt, confirmedAt: i.confirmedAt,
            confirmedBy: i.confirmedBy, closedAt: i.closedAt, closedBy: i.closedBy, closingNote: i.closingNote,
            dismissal: i.dismissal.map { .init(rawValue: $0.rawValue)! }, devices: i.devices.map(\.rawValue), users: i.users,
            sources: i.sources.map { .init(rawValue: $0.rawValue)! }, signalCount: i.signalCount, mergedInto: i.mergedInto?.description,
            assignee: i.assignee)
    }
}

extension Components.Schemas.DeviceState {
    init(_ d: DeviceIsolationRow) {
        self.init(
            deviceId: d.deviceID.rawValue, state: .init(rawValue: d.state.rawValue)!, incidentId: d.incidentID?.description,
            isolationType: d.isolationType.map { .init(rawValue: $0.rawValue)! }, changedAt: d.changedAt, changedBy: d.changedBy,
            firstSeenAt: d.firstSeenAt, lastSignalAt: d.lastSignalAt)
    }
}

extension Components.Schemas.DeviceChange {
    init(_ c: DeviceIsolationChange) {
        self.init(
            position: c.position, state: .init(rawValue: c.state.rawValue)!, at: c.at, actor: c.actor, actorName: c.actorName,
            incidentId: c.incidentID?.description, isolationType: c.isolationType.map { .init(rawValue: $0.rawValue)! }, note: c.note,
            edrActionId: c.edrActionID)
    }
}
