import Foundation
import MDRDomain
import MDRProjections
import MDRStore

/// What a report is made of, as read from the views: everything the assembler needs and nothing it would have to
/// ask for, so the figures are computed (and tested) without a database.
public struct ReportFacts: Sendable {
    public var tenant: TenantReport.Tenant
    public var period: ReportPeriod
    /// Signal counts per day, source, severity and outcome for the period's days.
    public var signals: [SignalSeverityStatisticsRow]
    /// Signals received in the period that belong to an incident, per source.
    public var correlated: [SignalSource: Int]
    /// The incidents opened, confirmed or closed in the period (each may have other steps outside it).
    public var incidents: [IncidentSummary]
    /// The devices' isolation changes in the period.
    public var isolations: [DeviceIsolationEvent]
    /// The SLA timers started in the period.
    public var slaTimers: [SlaTimer]
    /// The latest health check per source from the tenant's onboarding.
    public var healthChecks: [HealthCheck]
    /// Signals filtered at intake without an event (duplicates, malformed), per day, source and outcome.
    public var filtered: [FilteredSignalCount]

    public init(
        tenant: TenantReport.Tenant, period: ReportPeriod, signals: [SignalSeverityStatisticsRow], correlated: [SignalSource: Int],
        incidents: [IncidentSummary], isolations: [DeviceIsolationEvent], slaTimers: [SlaTimer], healthChecks: [HealthCheck],
        filtered: [FilteredSignalCount] = []
    ) {
        self.filtered = filtered
        self.tenant = tenant
        self.period = period
        self.signals = signals
        self.correlated = correlated
        self.incidents = incidents
        self.isolations = isolations
        self.slaTimers = slaTimers
        self.healthChecks = healthChecks
    }
}

/// Computes a report's figures from its facts. Pure.
public enum ReportAssembler {
    /// The report of `facts`, made at `now` (SLA timers are judged as they stand then).
    public static func report(_ facts: ReportFacts, at now: Date) -> TenantReport {
        TenantReport(
            tenant: facts.tenant,
            period: .init(from: facts.period.from, to: facts.period.to, days: facts.period.days),
            generatedAt: now, signals: signals(facts), incidents: incidents(facts), devices: devices(facts),
            sla: sla(facts, at: now), coverage: coverage(facts))
    }

    static func signals(_ facts: ReportFacts) -> TenantReport.Signals {
        let rows = facts.signals.filter { $0.day >= facts.period.from && $0.day <= facts.period.to }
        func count(_ outcome: SignalOutcome) -> Int { rows.filter { $0.outcome == outcome }.reduce(0) { $0 + Int($1.signals) } }
        // "Seen" is new signals: an update is the same alert again, already counted when it first came.
        let new = rows.filter { $0.outcome == .accepted || $0.outcome == .suppressed }
        var total = TenantReport.SeverityCounts()
        let bySource = SignalSource.allCases.map { source in
            var counts = TenantReport.SeverityCounts()
            for row in new where row.source == source { counts[row.severity] += Int(row.signals) }
            for severity in Severity.allCases { total[severity] += counts[severity] }
            return TenantReport.SourceSignals(source: source, total: counts.total, bySeverity: counts, correlated: facts.correlated[source] ?? 0)
        }
        let filtered = facts.filtered.filter { $0.day >= facts.period.from && $0.day <= facts.period.to }
        func filteredCount(_ outcome: FilteredSignalCount.Outcome) -> Int {
            filtered.filter { $0.outcome == outcome }.reduce(0) { $0 + Int($1.signals) }
        }
        let outcomes = TenantReport.Outcomes(
            accepted: count(.accepted), suppressed: count(.suppressed), updated: count(.updated), duplicate: filteredCount(.duplicate),
            rejected: filteredCount(.rejected))
        return TenantReport.Signals(
            received: total.total, bySeverity: total, bySource: bySource, outcomes: outcomes, informational: total.informational,
            noise: outcomes.suppressed + outcomes.duplicate, correlated: facts.correlated.values.reduce(0, +))
    }

    static func incidents(_ facts: ReportFacts) -> TenantReport.Incidents {
        let (start, end) = facts.period.instants
        func inPeriod(_ date: Date?) -> Bool { date.map { $0 >= start && $0 < end } ?? false }
        var byPriority = TenantReport.PriorityCounts()
        var dismissals = TenantReport.DismissalCounts()
        var opened = 0, confirmed = 0, dismissed = 0, resolved = 0, merged = 0
        for incident in facts.incidents {
            if inPeriod(incident.openedAt), incident.status != .merged { opened += 1 }
            if inPeriod(incident.confirmedAt) {
                confirmed += 1
                if let priority = incident.priority { byPriority[priority] += 1 }
            }
            guard inPeriod(incident.closedAt) else { continue }
            switch incident.status {
            case .dismissed:
                dismissed += 1
                switch incident.dismissal {
                case .falsePositive: dismissals.falsePositive += 1
                case .benignPositive: dismissals.benignPositive += 1
                case .duplicate: dismissals.duplicate += 1
                case nil: break
                }
            case .resolved: resolved += 1
            case .merged: merged += 1
            case .open, .confirmed: break
            }
        }
        let confirmedIncidents = facts.incidents
            .filter { $0.confirmedAt != nil && (inPeriod($0.openedAt) || inPeriod($0.confirmedAt) || inPeriod($0.closedAt)) }
            .sorted { ($0.openedAt, $0.id.description) < ($1.openedAt, $1.id.description) }
            .map { i in
                TenantReport.ConfirmedIncident(
                    id: i.id, priority: i.priority, summary: i.summary, status: i.status, openedAt: i.openedAt, confirmedAt: i.confirmedAt,
                    resolvedAt: i.status == .resolved ? i.closedAt : nil, devices: i.devices)
            }
        return TenantReport.Incidents(
            opened: opened, confirmed: confirmed, confirmedByPriority: byPriority, dismissed: dismissed, dismissedByClassification: dismissals,
            resolved: resolved, merged: merged, confirmedIncidents: confirmedIncidents)
    }

    static func devices(_ facts: ReportFacts) -> TenantReport.Devices {
        let (start, end) = facts.period.instants
        let changes = facts.isolations.filter { $0.at >= start && $0.at < end }
        func count(_ state: IsolationState) -> Int { changes.count { $0.state == state } }
        var isolated: [TenantReport.IsolatedDevice] = []
        for change in changes {
            switch change.state {
            case .isolated where !isolated.contains(where: { $0.deviceID == change.deviceID }):
                isolated.append(.init(deviceID: change.deviceID, incidentID: change.incidentID, isolatedAt: change.at, releasedAt: nil))
            case .released:
                if let index = isolated.lastIndex(where: { $0.deviceID == change.deviceID && $0.releasedAt == nil }) {
                    isolated[index].releasedAt = change.at
                }
            default: break
            }
        }
        return TenantReport.Devices(
            isolationsRequested: count(.pending), isolated: count(.isolated), devicesIsolated: isolated.count, isolationsFailed: count(.failed),
            released: count(.released), isolatedDevices: isolated)
    }

    static func sla(_ facts: ReportFacts, at now: Date) -> TenantReport.Sla {
        let compliance = SlaCompliance.report(facts.slaTimers, at: now)
        let targets = SlaTargetKind.allCases.sorted().map { target in
            let f = compliance.perTarget[target]
            return TenantReport.SlaTarget(
                target: target, decided: f?.decided ?? 0, met: f?.met ?? 0, breached: f?.breached ?? 0, running: f?.running ?? 0,
                shareMet: f?.shareMet, meanSeconds: f?.meanSeconds, p90Seconds: f?.p90Seconds)
        }
        return TenantReport.Sla(
            level: facts.tenant.sla, targets: targets, mttaSeconds: compliance.mttaSeconds, mttcSeconds: compliance.mttcSeconds,
            breaches: compliance.breaches.count)
    }

    static func coverage(_ facts: ReportFacts) -> [TenantReport.SourceCoverage] {
        let rows = facts.signals.filter { $0.day >= facts.period.from && $0.day <= facts.period.to && $0.signals > 0 }
        return SignalSource.allCases.map { source in
            let check = facts.healthChecks.first { $0.source == source }
            let days = Set(rows.filter { $0.source == source }.map(\.day)).count
            return TenantReport.SourceCoverage(
                source: source, healthCheck: check?.status, missing: check?.missing ?? [], checkedAt: check?.checkedAt, daysWithSignals: days,
                shareOfDays: Double(days) / Double(facts.period.days))
        }
    }
}
