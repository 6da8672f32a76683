import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import OpenAPIRuntime

// MARK: - SLA dashboards (from the SLA-timer view)

extension APIHandler {
    static let maxTimerPage = 500

    func getSlaCompliance(_ input: Operations.GetSlaCompliance.Input) async throws -> Operations.GetSlaCompliance.Output {
        try authorizeAcrossTenants("reads SLA figures under /v1/tenants/{tenantId}")
        let month = try Self.month(input.query.month)
        let sla = input.query.sla.flatMap { ServiceLevel(rawValue: $0.rawValue) }
        let views = services.views
        let records = try await withinDeadline { try await views.slaTimers(tenants: nil, month: month, sla: sla) }
        return .ok(.init(body: .json(Self.compliance(records, month: input.query.month, tenant: nil, sla: sla, at: Date()))))
    }

    func getTenantSlaCompliance(_ input: Operations.GetTenantSlaCompliance.Input) async throws -> Operations.GetTenantSlaCompliance.Output {
        let (_, tenant) = try authorize(.readSecurityViews, tenant: input.path.tenantId)
        let month = try Self.month(input.query.month)
        try await requireTenant(tenant)
        let views = services.views
        let records = try await withinDeadline { try await views.slaTimers(tenants: [tenant], month: month) }
        return .ok(.init(body: .json(Self.compliance(records, month: input.query.month, tenant: tenant, sla: nil, at: Date()))))
    }

    func listRunningSlaTimers(_ input: Operations.ListRunningSlaTimers.Input) async throws -> Operations.ListRunningSlaTimers.Output {
        try authorizeAcrossTenants("reads SLA figures under /v1/tenants/{tenantId}")
        var tenants: [TenantID]? = nil
        if let raw = input.query.tenant {
            guard let tenant = TenantID(rawValue: raw) else { throw Problem.badRequest("tenant: '\(raw.prefix(80))' is not a tenant id") }
            tenants = [tenant]
        }
        let limit = input.query.limit ?? 100
        guard (1...Self.maxTimerPage).contains(limit) else { throw Problem.badRequest("limit must be 1–\(Self.maxTimerPage)") }
        let views = services.views
        let scope = tenants
        let records = try await withinDeadline { try await views.runningSlaTimers(tenants: scope, limit: limit) }
        let now = Date()
        return .ok(.init(body: .json(.init(timers: records.map { .init($0, at: now) }))))
    }

    func getIncidentSla(_ input: Operations.GetIncidentSla.Input) async throws -> Operations.GetIncidentSla.Output {
        let (_, tenant) = try authorize(.readSecurityViews, tenant: input.path.tenantId)
        let id = try incidentID(input.path.incidentId)
        let queries = services.queries
        guard try await withinDeadline({ try await queries.incident(tenant: tenant, id) != nil }) else {
            throw DomainError(.incidentNotFound, .notFound, "incident \(id) not found")
        }
        let views = services.views
        let (records, nis2) = try await withinDeadline {
            (try await views.slaTimers(tenant: tenant, incident: id), try await views.nis2Deadlines(tenant: tenant, incident: id))
        }
        let now = Date()
        return .ok(
            .init(
                body: .json(
                    .init(
                        timers: records.map { .init($0, at: now) },
                        nis2: nis2.map {
                            .init(awareAt: $0.awareAt, earlyWarning: $0.earlyWarning, incidentNotification: $0.incidentNotification, finalReport: $0.finalReport)
                        }))))
    }

    // MARK: Helpers

    static func month(_ raw: String) throws -> CalendarDate {
        let parts = raw.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int(parts[0]), let month = Int(parts[1]),
            let date = CalendarDate(year: year, month: month, day: 1)
        else { throw Problem.badRequest("month: '\(raw.prefix(20))' is not a month like 2026-11") }
        return date
    }

    static func compliance(
        _ records: [SlaTimerRecord], month: String, tenant: TenantID?, sla: ServiceLevel?, at now: Date
    ) -> Components.Schemas.SlaComplianceReport {
        let report = SlaCompliance.report(records.map(\.timer), at: now)
        func figures(_ report: SlaComplianceReport, _ kind: SlaTargetKind) -> Components.Schemas.SlaComplianceFigures {
            let f = report.perTarget[kind]
            return .init(
                decided: f?.decided ?? 0, met: f?.met ?? 0, breached: f?.breached ?? 0, running: f?.running ?? 0, shareMet: f?.shareMet,
                meanSeconds: f?.meanSeconds, p90Seconds: f?.p90Seconds)
        }
        // Across tenants, the figures of each tenant too (the SLA board's table).
        let perTenant: [Components.Schemas.SlaTenantCompliance]? = tenant != nil ? nil
            : Dictionary(grouping: records, by: \.tenant).sorted { $0.key.rawValue < $1.key.rawValue }.map { id, own in
                let r = SlaCompliance.report(own.map(\.timer), at: now)
                return .init(
                    tenantId: id.rawValue, triage: figures(r, .triage), notify: figures(r, .notify), contain: figures(r, .contain),
                    breached: own.filter { $0.timer.status(at: now) == .breached }.count)
            }
        return .init(
            month: month, tenantId: tenant?.rawValue, sla: sla.flatMap { .init(rawValue: $0.rawValue) }, triage: figures(report, .triage),
            notify: figures(report, .notify), contain: figures(report, .contain), mttaSeconds: report.mttaSeconds, mttcSeconds: report.mttcSeconds,
            breaches: records.filter { $0.timer.status(at: now) == .breached }.map { .init($0, at: now) }, tenants: perTenant)
    }
}

extension Components.Schemas.SlaTimer {
    init(_ r: SlaTimerRecord, at now: Date) {
        let t = r.timer
        self.init(
            tenantId: r.tenant.rawValue, incidentId: t.incidentID.description, target: .init(rawValue: t.target.rawValue)!,
            priority: .init(rawValue: t.priority.rawValue)!, sla: .init(rawValue: t.sla.rawValue)!, policyVersion: t.policyVersion,
            startedAt: t.startedAt, deadline: t.deadline, stoppedAt: t.stoppedAt, stoppedBy: t.stoppedBy.flatMap { .init(rawValue: $0.rawValue) },
            elapsedSeconds: t.elapsed, remainingSeconds: t.stoppedAt == nil ? t.deadline.timeIntervalSince(now) : nil,
            status: .init(rawValue: t.status(at: now).rawValue)!, breachedAt: r.breachedAt,
            link: "/v1/tenants/\(r.tenant.rawValue)/incidents/\(t.incidentID)")
    }
}
