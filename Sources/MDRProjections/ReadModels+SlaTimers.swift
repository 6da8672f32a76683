import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

/// A row of the SLA-timer view: the timer, its tenant, and its breach event once recorded.
public struct SlaTimerRecord: Sendable, Equatable {
    public var tenant: TenantID
    public var timer: SlaTimer
    /// The `SlaBreached` event of this timer, once in the log.
    public var breachEventID: UUID?
    public var breachedAt: Date?
}

extension ReadModels {
    /// The SLA timers of one incident, by target.
    public func slaTimers(tenant: TenantID, incident: IncidentID) async throws -> [SlaTimerRecord] {
        try await records("v.tenant_id = $1 AND v.incident_id = $2", orderBy: "array_position(ARRAY['triage','notify','contain'], v.target)") {
            try $0.append(tenant.rawValue)
            try $0.append(incident.rawValue)
        }
    }

    /// Running timers (not stopped), the nearest deadline first: the SOC's "about to breach" list. `tenants` limits
    /// the answer (nil: all tenants).
    public func runningSlaTimers(tenants: [TenantID]? = nil, limit: Int = 100) async throws -> [SlaTimerRecord] {
        try await records(
            "v.stopped_at IS NULL AND ($1::text[] IS NULL OR v.tenant_id = ANY($1::text[]))", orderBy: "v.deadline, v.tenant_id, v.incident_id",
            limit: limit
        ) { try $0.append(tenants?.map(\.rawValue)) }
    }

    /// How many timers run across all tenants at `now`, and how many of them are past their deadline (their breach
    /// being recorded by the SLA clock): the figures of `/metrics`.
    public func runningSlaTimerCounts(at now: Date) async throws -> (running: Int, overdue: Int) {
        let rows = try await database.client.query(
            "SELECT count(*), count(*) FILTER (WHERE deadline <= \(now)) FROM sla_timer_view WHERE stopped_at IS NULL", logger: logger)
        for try await (running, overdue) in rows.decode((Int64, Int64).self) { return (Int(running), Int(overdue)) }
        return (0, 0)
    }

    /// A tenant's timers started in `[from, to)`, e.g. one month, for `SlaCompliance.report`.
    public func slaTimers(tenant: TenantID, startedFrom from: Date, to: Date) async throws -> [SlaTimerRecord] {
        try await records("v.tenant_id = $1 AND v.started_at >= $2 AND v.started_at < $3", orderBy: "v.started_at, v.incident_id, v.target") {
            try $0.append(tenant.rawValue)
            try $0.append(from)
            try $0.append(to)
        }
    }

    /// Compliance of the timers started in the calendar month of `month` (Europe/Amsterdam), as they stand at `now`:
    /// per tenant, or across `tenants` (nil: all tenants, Dynamic's view), optionally for one SLA.
    public func slaCompliance(tenants: [TenantID]?, month: CalendarDate, sla: ServiceLevel? = nil, at now: Date) async throws
        -> SlaComplianceReport
    {
        SlaCompliance.report(try await slaTimers(tenants: tenants, month: month, sla: sla).map(\.timer), at: now)
    }

    /// The timers started in the calendar month of `month` (Europe/Amsterdam), of `tenants` (nil: all), optionally
    /// of one SLA: what a compliance report is made of, with the tenant of each timer.
    public func slaTimers(tenants: [TenantID]?, month: CalendarDate, sla: ServiceLevel? = nil) async throws -> [SlaTimerRecord] {
        let (from, to) = Self.monthBounds(month)
        return try await records(
            "($1::text[] IS NULL OR v.tenant_id = ANY($1::text[])) AND v.started_at >= $2 AND v.started_at < $3 AND ($4::text IS NULL OR v.sla = $4)",
            orderBy: "v.started_at, v.tenant_id, v.incident_id, v.target"
        ) {
            try $0.append(tenants?.map(\.rawValue))
            try $0.append(from)
            try $0.append(to)
            try $0.append(sla?.rawValue)
        }
    }

    /// The customer's NIS2 reporting deadlines for a confirmed incident of a tenant in NIS2 scope, counted from the
    /// confirmation (the stop of the triage timer); nil when the tenant is not in scope or the incident not confirmed.
    public func nis2Deadlines(tenant: TenantID, incident: IncidentID) async throws -> Nis2ReportingDeadlines? {
        let rows = try await database.client.query(
            """
            SELECT t.stopped_at FROM sla_timer_view t JOIN sla_tenant_view s ON s.tenant_id = t.tenant_id AND s.nis2_in_scope
            WHERE t.tenant_id = \(tenant.rawValue) AND t.incident_id = \(incident.rawValue) AND t.target = 'triage' AND t.stopped_by = 'confirmed'
            """, logger: logger)
        for try await confirmedAt in rows.decode(Date.self) { return Nis2ReportingDeadlines(awareAt: confirmedAt) }
        return nil
    }

    /// The first instant of the month of `date` and of the next month, on the Amsterdam wall clock.
    static func monthBounds(_ date: CalendarDate) -> (Date, Date) {
        Billing.bounds(of: BillingMonth(date))
    }

    func records(_ condition: String, orderBy: String, limit: Int? = nil, binds: (inout PostgresBindings) throws -> Void) async throws
        -> [SlaTimerRecord]
    {
        var bindings = PostgresBindings()
        try binds(&bindings)
        let sql =
            "SELECT v.tenant_id, v.breach_event_id, v.breached_at, "
            + SlaTimerRows.columns.split(separator: ", ").map { "v.\($0)" }.joined(separator: ", ")
            + " FROM sla_timer_view v WHERE \(condition) ORDER BY \(orderBy)" + (limit.map { " LIMIT \($0)" } ?? "")
        let decoder = JSONCoding.decoder()
        return try await database.client.withConnection { connection in
            var out: [SlaTimerRecord] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger) {
                let columns = row.makeRandomAccess()
                let tenant = try columns[0].decode(String.self)
                let breachID = try columns[1].decode(UUID?.self)
                let breachedAt = try columns[2].decode(Date?.self)
                guard let tenantID = TenantID(rawValue: tenant), let target = SlaTargetKind(rawValue: try columns[4].decode(String.self)),
                    let priority = Priority(rawValue: try columns[5].decode(String.self)),
                    let sla = ServiceLevel(rawValue: try columns[6].decode(String.self))
                else { continue }
                let timer = SlaTimer(
                    incidentID: IncidentID(rawValue: try columns[3].decode(UUID.self)), target: target, priority: priority, sla: sla,
                    policyVersion: try columns[7].decode(String.self),
                    rule: try decoder.decode(SlaDeadlineRule.self, from: Data(try columns[8].decode(String.self).utf8)),
                    startedAt: try columns[9].decode(Date.self), deadline: try columns[10].decode(Date.self),
                    stoppedAt: try columns[11].decode(Date?.self), stoppedBy: try columns[12].decode(String?.self).flatMap(SlaStop.init(rawValue:)),
                    elapsed: try columns[13].decode(Double?.self))
                out.append(SlaTimerRecord(tenant: tenantID, timer: timer, breachEventID: breachID, breachedAt: breachedAt))
            }
            return out
        }
    }
}
