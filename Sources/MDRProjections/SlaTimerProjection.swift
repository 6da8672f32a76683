import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

/// The SLA-timer view: one row per incident and target (triage, notify, contain) with start, deadline, stop and
/// elapsed time, folded by `IncidentSlaTimers` from the incident events (`SlaFact.from`); plus each tenant's SLA and
/// each incident's fold state. Tables `sla_tenant_view`, `sla_incident_view`, `sla_timer_view` (`0003_sla.sql`).
///
/// A `SlaBreached` event marks its timer (`breach_event_id`, `breached_at`). The SLA clock (`SlaClock`) sets the
/// same values in the transaction that appends the event, so it never picks the timer again while this projection
/// has not yet read the event; the values are the event's, so a rebuild gives the same rows.
public struct SlaTimerProjection: Projection {
    public let name = SlaTimerProjection.projectionName
    public let version = 1
    public let eventTypes: Set<String>? = Set([TenantOnboarded.eventType, SlaBreached.eventType] + SlaFact.eventTypes)
    /// The policy and business clock the timers are measured with.
    public let policy: SlaPolicy
    public let clock: BusinessClock

    /// The checkpoint name, which the SLA clock reads to know the timers are current.
    public static let projectionName = "sla-timers"

    public init(policy: SlaPolicy = .standard, clock: BusinessClock = .standard) {
        self.policy = policy
        self.clock = clock
    }

    public func apply(_ events: [PipelineEvent], tenant: TenantID, on connection: PostgresConnection) async throws {
        let logger = Logger.projections
        var decoded: [(RecordedEvent, DomainEvent)] = []
        var incidentIDs = Set<IncidentID>()
        for piped in events {
            let event = try piped.event()
            decoded.append((piped.record, event))
            if let (id, _) = SlaFact.from(event) { incidentIDs.insert(id) }
        }

        var terms: (sla: ServiceLevel, nis2: Bool)? = try await Self.loadTerms(tenant, on: connection)
        var termsChanged = false
        var states = try await Self.loadStates(tenant, Array(incidentIDs), on: connection)
        var touched = Set<IncidentID>()
        var breaches: [(incident: IncidentID, target: SlaTargetKind, eventID: UUID, at: Date)] = []
        for (recorded, event) in decoded {
            switch event {
            case .tenantOnboarded(let e):
                guard let sla = e.tenant.package.sla else { continue }
                terms = (sla, e.tenant.nis2InScope)
                termsChanged = true
            case .slaBreached(let e):
                breaches.append((e.incidentID, e.target, recorded.eventID, e.breachedAt))
            default:
                // No timers without an SLA: a tenant is onboarded (with one) before anything else is in its log.
                guard let (id, fact) = SlaFact.from(event), let terms else { continue }
                states[id, default: IncidentSlaTimers(incidentID: id)]
                    .apply(fact, terms: SlaTerms(sla: terms.sla, policy: policy, clock: clock))
                touched.insert(id)
            }
        }

        if termsChanged, let terms {
            try await connection.query(
                """
                INSERT INTO sla_tenant_view (tenant_id, sla, nis2_in_scope) VALUES (\(tenant.rawValue), \(terms.sla.rawValue), \(terms.nis2))
                ON CONFLICT (tenant_id) DO UPDATE SET sla = EXCLUDED.sla, nis2_in_scope = EXCLUDED.nis2_in_scope
                """, logger: logger)
        }
        let changed = touched.sorted { $0.description < $1.description }.compactMap { states[$0] }
        if !changed.isEmpty {
            try await connection.query(
                """
                INSERT INTO sla_incident_view AS v (tenant_id, incident_id, priority, confirmed)
                SELECT \(tenant.rawValue), u.incident, nullif(u.priority, ''), u.confirmed
                FROM unnest(\(changed.map(\.incidentID.rawValue))::uuid[], \(changed.map { $0.priority?.rawValue ?? "" })::text[],
                            \(changed.map(\.isConfirmed))::boolean[]) AS u(incident, priority, confirmed)
                ON CONFLICT (tenant_id, incident_id) DO UPDATE SET priority = EXCLUDED.priority, confirmed = EXCLUDED.confirmed
                """, logger: logger)
            let timers = changed.flatMap(\.sorted)
            if !timers.isEmpty {
                let encoder = JSONCoding.encoder()
                let rules = try timers.map { String(decoding: try encoder.encode($0.rule), as: UTF8.self) }
                try await connection.query(
                    """
                    INSERT INTO sla_timer_view AS v
                        (tenant_id, incident_id, target, priority, sla, policy_version, rule, clock, started_at, deadline, stopped_at,
                         stopped_by, elapsed_seconds)
                    SELECT \(tenant.rawValue), u.incident, u.target, u.priority, u.sla, u.policy_version, u.rule, u.clock, u.started_at,
                           u.deadline, nullif(u.stopped_at, '')::timestamptz, nullif(u.stopped_by, ''), nullif(u.elapsed, '')::float8
                    FROM unnest(\(timers.map(\.incidentID.rawValue))::uuid[], \(timers.map(\.target.rawValue))::text[],
                                \(timers.map(\.priority.rawValue))::text[], \(timers.map(\.sla.rawValue))::text[],
                                \(timers.map(\.policyVersion))::text[], \(rules)::text[], \(timers.map(\.rule.clockKind.rawValue))::text[],
                                \(timers.map(\.startedAt))::timestamptz[], \(timers.map(\.deadline))::timestamptz[],
                                \(timers.map { $0.stoppedAt.map(Timestamp.format) ?? "" })::text[], \(timers.map { $0.stoppedBy?.rawValue ?? "" })::text[],
                                \(timers.map { $0.elapsed.map { String($0) } ?? "" })::text[])
                         AS u(incident, target, priority, sla, policy_version, rule, clock, started_at, deadline, stopped_at, stopped_by, elapsed)
                    ON CONFLICT (tenant_id, incident_id, target) DO UPDATE SET
                        priority = EXCLUDED.priority, sla = EXCLUDED.sla, policy_version = EXCLUDED.policy_version, rule = EXCLUDED.rule,
                        clock = EXCLUDED.clock, started_at = EXCLUDED.started_at, deadline = EXCLUDED.deadline,
                        stopped_at = EXCLUDED.stopped_at, stopped_by = EXCLUDED.stopped_by, elapsed_seconds = EXCLUDED.elapsed_seconds
                    """, logger: logger)
            }
        }
        if !breaches.isEmpty {
            try await connection.query(
                """
                UPDATE sla_timer_view v SET breach_event_id = u.event_id, breached_at = u.at
                FROM unnest(\(breaches.map(\.incident.rawValue))::uuid[], \(breaches.map(\.target.rawValue))::text[],
                            \(breaches.map(\.eventID))::uuid[], \(breaches.map(\.at))::timestamptz[]) AS u(incident, target, event_id, at)
                WHERE v.tenant_id = \(tenant.rawValue) AND v.incident_id = u.incident AND v.target = u.target
                """, logger: logger)
        }
    }

    /// Forgets the removed incidents' timers.
    public func forget(streams: [StreamName], tenant: TenantID, on connection: PostgresConnection) async throws {
        let incidents = RemovedStreams(streams).incidents
        try await connection.query(
            "DELETE FROM sla_incident_view WHERE tenant_id = \(tenant.rawValue) AND incident_id = ANY(\(incidents))", logger: Logger.projections)
        try await connection.query(
            "DELETE FROM sla_timer_view WHERE tenant_id = \(tenant.rawValue) AND incident_id = ANY(\(incidents))", logger: Logger.projections)
    }

    public func reset(on connection: PostgresConnection) async throws {
        try await connection.query("TRUNCATE sla_tenant_view, sla_incident_view, sla_timer_view", logger: Logger.projections)
    }

    static func loadTerms(_ tenant: TenantID, on connection: PostgresConnection) async throws -> (sla: ServiceLevel, nis2: Bool)? {
        for try await (sla, nis2) in try await connection.query(
            "SELECT sla, nis2_in_scope FROM sla_tenant_view WHERE tenant_id = \(tenant.rawValue)", logger: Logger.projections
        ).decode((String, Bool).self) {
            if let level = ServiceLevel(rawValue: sla) { return (level, nis2) }
        }
        return nil
    }

    /// The stored fold state of `incidents`.
    static func loadStates(_ tenant: TenantID, _ incidents: [IncidentID], on connection: PostgresConnection) async throws
        -> [IncidentID: IncidentSlaTimers]
    {
        guard !incidents.isEmpty else { return [:] }
        let ids = incidents.map(\.rawValue)
        var timers: [IncidentID: [SlaTimer]] = [:]
        for timer in try await SlaTimerRows.select(
            "tenant_id = $1 AND incident_id = ANY($2::uuid[])", binds: { try $0.append(tenant.rawValue); try $0.append(ids) }, on: connection)
        {
            timers[timer.incidentID, default: []].append(timer)
        }
        var states: [IncidentID: IncidentSlaTimers] = [:]
        for try await (incident, priority, confirmed) in try await connection.query(
            "SELECT incident_id, priority, confirmed FROM sla_incident_view WHERE tenant_id = \(tenant.rawValue) AND incident_id = ANY(\(ids)::uuid[])",
            logger: Logger.projections
        ).decode((UUID, String?, Bool).self) {
            let id = IncidentID(rawValue: incident)
            states[id] = IncidentSlaTimers(
                incidentID: id, timers: timers[id] ?? [], priority: priority.flatMap(Priority.init(rawValue:)), isConfirmed: confirmed)
        }
        return states
    }
}

/// Reading `sla_timer_view` rows back into `SlaTimer`s.
enum SlaTimerRows {
    static let columns =
        "incident_id, target, priority, sla, policy_version, rule, started_at, deadline, stopped_at, stopped_by, elapsed_seconds"

    static func select(
        _ condition: String, orderBy: String = "incident_id, target", limit: Int? = nil, binds: (inout PostgresBindings) throws -> Void,
        on connection: PostgresConnection
    ) async throws -> [SlaTimer] {
        var bindings = PostgresBindings()
        try binds(&bindings)
        let sql = "SELECT \(columns) FROM sla_timer_view WHERE \(condition) ORDER BY \(orderBy)" + (limit.map { " LIMIT \($0)" } ?? "")
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: Logger.projections)
        return try await decode(rows)
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [SlaTimer] {
        let decoder = JSONCoding.decoder()
        var timers: [SlaTimer] = []
        for try await row in rows {
            let (incident, target, priority, sla, version, rule, started, deadline, stopped, stoppedBy, elapsed) = try row.decode(
                (UUID, String, String, String, String, String, Date, Date, Date?, String?, Double?).self)
            guard let target = SlaTargetKind(rawValue: target), let priority = Priority(rawValue: priority), let sla = ServiceLevel(rawValue: sla)
            else { continue }
            timers.append(
                SlaTimer(
                    incidentID: IncidentID(rawValue: incident), target: target, priority: priority, sla: sla, policyVersion: version,
                    rule: try decoder.decode(SlaDeadlineRule.self, from: Data(rule.utf8)), startedAt: started, deadline: deadline,
                    stoppedAt: stopped, stoppedBy: stoppedBy.flatMap(SlaStop.init(rawValue:)), elapsed: elapsed))
        }
        return timers
    }
}
