import Foundation
import MDRDomain

/// What the HTML template shows: a report's figures as display texts, and its charts with their geometry. Built
/// from a `TenantReport` alone, so the page shows exactly what the JSON says.
public struct ReportView: Sendable {
    /// A labelled figure.
    public struct Figure: Sendable, Equatable {
        public var label: String
        public var value: String
        /// A short explanation under the figure (may be empty).
        public var note: String
    }

    /// A row of the signals table.
    public struct SourceRow: Sendable, Equatable {
        public var source: String
        public var counts: [String]
        public var total: String
        public var correlated: String
    }

    /// A row of the SLA table.
    public struct SlaRow: Sendable, Equatable {
        public var target: String
        public var decided: String
        public var met: String
        public var breached: String
        public var running: String
        public var share: String
        public var mean: String
        public var p90: String
    }

    /// A row of the coverage table.
    public struct CoverageRow: Sendable, Equatable {
        public var source: String
        public var healthCheck: String
        /// Whether the latest check found the source delivering (the row is marked otherwise).
        public var healthy: Bool
        public var missing: String
        public var checkedAt: String
        public var days: String
    }

    /// A row of the confirmed incidents table.
    public struct IncidentRow: Sendable, Equatable {
        /// The first eight characters of the id (the full id in `fullID`, as the row's tooltip).
        public var shortID: String
        public var fullID: String
        public var priority: String
        public var summary: String
        public var opened: String
        public var confirmed: String
        public var resolved: String
        public var devices: String
    }

    /// A row of the isolated devices table.
    public struct DeviceRow: Sendable, Equatable {
        public var device: String
        public var isolated: String
        public var released: String
    }

    public var title: String
    public var tenantName: String
    public var tenantID: String
    public var package: String
    public var sla: String
    public var periodText: String
    public var generatedAt: String
    public var headline: [Figure]
    public var severities: [String]
    public var severityLegend: [Figure]
    public var signalChart: BarChart
    public var sourceRows: [SourceRow]
    public var signalTotals: SourceRow
    public var outcomes: [Figure]
    public var incidentChart: BarChart
    public var incidents: [Figure]
    public var devices: [Figure]
    public var confirmedIncidents: [IncidentRow]
    public var isolatedDevices: [DeviceRow]
    public var slaChart: BarChart
    public var slaRows: [SlaRow]
    public var slaSummary: [Figure]
    public var coverageChart: BarChart
    public var coverageRows: [CoverageRow]

    public init(_ report: TenantReport) {
        let s = report.signals
        title = "MDR report \(Self.period(report.period)) — \(report.tenant.name)"
        tenantName = report.tenant.name
        tenantID = report.tenant.id.rawValue
        package = Self.packageName(report.tenant.package)
        sla = "SLA \(report.tenant.sla.rawValue)"
        periodText = Self.period(report.period)
        generatedAt = Self.instant(report.generatedAt)
        headline = [
            Figure(label: "Signals received", value: Self.number(s.received), note: "new alerts from your sources"),
            Figure(label: "Filtered as noise", value: Self.number(s.noise), note: "suppressed by agreed rules"),
            Figure(label: "Incidents confirmed", value: Self.number(report.incidents.confirmed), note: "real attacks, assessed by an analyst"),
            Figure(label: "Devices isolated", value: Self.number(report.devices.devicesIsolated), note: "taken off the network to contain an attack"),
        ]
        severities = Severity.allCases.reversed().map { Self.severityName($0) }
        severityLegend = Severity.allCases.reversed().map { Figure(label: Self.severityName($0), value: "sev-\($0.rawValue)", note: "") }
        signalChart = BarChart(
            title: "Signals received per source and severity",
            rows: s.bySource.map { source in
                BarChart.Row(
                    label: Self.sourceName(source.source), valueText: Self.number(source.total),
                    parts: Severity.allCases.reversed().map { severity in
                        BarChart.Part(
                            Double(source.bySeverity[severity]), cssClass: "sev-\(severity.rawValue)",
                            title: "\(Self.sourceName(source.source)), \(Self.severityName(severity)): \(source.bySeverity[severity])")
                    })
            })
        sourceRows = s.bySource.map { source in
            SourceRow(
                source: Self.sourceName(source.source), counts: Severity.allCases.reversed().map { Self.number(source.bySeverity[$0]) },
                total: Self.number(source.total), correlated: Self.number(source.correlated))
        }
        signalTotals = SourceRow(
            source: "All sources", counts: Severity.allCases.reversed().map { Self.number(s.bySeverity[$0]) }, total: Self.number(s.received),
            correlated: Self.number(s.correlated))
        outcomes = [
            Figure(label: "Accepted", value: Self.number(s.outcomes.accepted), note: "new signals passed to correlation"),
            Figure(label: "Suppressed", value: Self.number(s.outcomes.suppressed), note: "matched a suppression rule: kept, not escalated"),
            Figure(label: "Updated", value: Self.number(s.outcomes.updated), note: "a new status or severity of an earlier signal"),
            Figure(label: "Duplicates", value: Self.number(s.outcomes.duplicate), note: "the same alert again, unchanged"),
            Figure(label: "Rejected", value: Self.number(s.outcomes.rejected), note: "malformed, refused at intake"),
            Figure(label: "Informational", value: Self.number(s.informational), note: "new signals of severity informational"),
            Figure(label: "Correlated into incidents", value: Self.number(s.correlated), note: "new signals that are part of an incident"),
        ]
        let i = report.incidents
        incidentChart = BarChart(
            title: "Incidents in the period",
            rows: [
                ("Opened", i.opened, "inc-opened"), ("Confirmed", i.confirmed, "inc-confirmed"), ("Dismissed", i.dismissed, "inc-dismissed"),
                ("Resolved", i.resolved, "inc-resolved"),
            ].map { label, value, css in
                BarChart.Row(label: label, valueText: Self.number(value), parts: [BarChart.Part(Double(value), cssClass: css, title: "\(label): \(value)")])
            })
        incidents =
            Priority.allCases.map {
                Figure(label: "Confirmed as \($0.rawValue)", value: Self.number(i.confirmedByPriority[$0]), note: Self.priorityNote($0))
            } + [
                Figure(label: "Dismissed: false positive", value: Self.number(i.dismissedByClassification.falsePositive), note: ""),
                Figure(label: "Dismissed: benign positive", value: Self.number(i.dismissedByClassification.benignPositive), note: ""),
                Figure(label: "Dismissed: duplicate", value: Self.number(i.dismissedByClassification.duplicate), note: ""),
            ]
        confirmedIncidents = i.confirmedIncidents.map { c in
            IncidentRow(
                shortID: String(c.id.description.prefix(8)), fullID: c.id.description, priority: c.priority?.rawValue ?? "—",
                summary: c.summary ?? "", opened: Self.instant(c.openedAt), confirmed: c.confirmedAt.map(Self.instant) ?? "—",
                resolved: c.resolvedAt.map(Self.instant) ?? "being handled", devices: c.devices.map(\.rawValue).joined(separator: ", "))
        }
        let d = report.devices
        isolatedDevices = d.isolatedDevices.map { device in
            DeviceRow(
                device: device.deviceID.rawValue, isolated: Self.instant(device.isolatedAt),
                released: device.releasedAt.map(Self.instant) ?? "not released in the period")
        }
        devices = [
            Figure(label: "Isolations requested", value: Self.number(d.isolationsRequested), note: ""),
            Figure(label: "Isolations done", value: Self.number(d.isolated), note: "on \(Self.number(d.devicesIsolated)) device(s)"),
            Figure(label: "Isolations failed", value: Self.number(d.isolationsFailed), note: "the EDR could not isolate the device"),
            Figure(label: "Devices released", value: Self.number(d.released), note: "back on the network"),
        ]
        slaChart = BarChart(
            title: "Share of SLA targets met",
            rows: report.sla.targets.map { t in
                let met = t.shareMet ?? 0
                return BarChart.Row(
                    label: Self.targetName(t.target), valueText: Self.share(t.shareMet),
                    parts: [
                        BarChart.Part(met, cssClass: "sla-met", title: "\(Self.targetName(t.target)): met \(t.met) of \(t.decided)"),
                        BarChart.Part(
                            t.decided > 0 ? 1 - met : 0, cssClass: "sla-breached",
                            title: "\(Self.targetName(t.target)): breached \(t.breached) of \(t.decided)"),
                    ])
            }, scale: 1)
        slaRows = report.sla.targets.map { t in
            SlaRow(
                target: Self.targetName(t.target), decided: Self.number(t.decided), met: Self.number(t.met), breached: Self.number(t.breached),
                running: Self.number(t.running), share: Self.share(t.shareMet), mean: Self.duration(t.meanSeconds), p90: Self.duration(t.p90Seconds))
        }
        slaSummary = [
            Figure(label: "Mean time to acknowledge", value: Self.duration(report.sla.mttaSeconds), note: "opened → confirmed or dismissed"),
            Figure(label: "Mean time to contain", value: Self.duration(report.sla.mttcSeconds), note: "confirmed → device isolated"),
            Figure(label: "Breaches", value: Self.number(report.sla.breaches), note: "targets not met"),
        ]
        coverageChart = BarChart(
            title: "Days on which each source delivered signals",
            rows: report.coverage.map { c in
                BarChart.Row(
                    label: Self.sourceName(c.source), valueText: "\(c.daysWithSignals) / \(report.period.days)",
                    parts: [
                        BarChart.Part(Double(c.daysWithSignals), cssClass: "cov-days", title: "\(Self.sourceName(c.source)): \(c.daysWithSignals) days"),
                        BarChart.Part(
                            Double(report.period.days - c.daysWithSignals), cssClass: "cov-silent",
                            title: "\(Self.sourceName(c.source)): \(report.period.days - c.daysWithSignals) days without signals"),
                    ])
            }, scale: Double(report.period.days))
        coverageRows = report.coverage.map { c in
            CoverageRow(
                source: Self.sourceName(c.source), healthCheck: c.healthCheck.map { $0 == .delivering ? "delivering" : "missing" } ?? "not checked",
                healthy: c.healthCheck == .delivering, missing: c.missing.joined(separator: ", "), checkedAt: c.checkedAt.map(Self.instant) ?? "—",
                days: "\(c.daysWithSignals) of \(report.period.days)")
        }
    }

    // MARK: Display texts

    static let amsterdam = TimeZone(identifier: "Europe/Amsterdam")!
    static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    ]

    static func period(_ p: TenantReport.Period) -> String {
        if p.from.day == 1, p.from.year == p.to.year, p.from.month == p.to.month,
            p.to.day == CalendarDate.daysIn(month: p.to.month, year: p.to.year)
        {
            return "\(monthNames[p.from.month - 1]) \(p.from.year)"
        }
        return "\(date(p.from)) – \(date(p.to))"
    }

    static func date(_ d: CalendarDate) -> String { "\(d.day) \(monthNames[d.month - 1]) \(d.year)" }

    /// An instant on the Amsterdam wall clock, `2026-12-01 09:00`.
    static func instant(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = amsterdam
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ n: Int?) -> String { let n = n ?? 0; return n < 10 ? "0\(n)" : "\(n)" }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute))"
    }

    /// `12 345`: thin grouping that reads the same in Dutch and English.
    static func number(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append("\u{202F}") }
            out.append(character)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func share(_ value: Double?) -> String {
        guard let value else { return "—" }
        return String(format: "%.1f %%", value * 100)
    }

    /// `45 s`, `12 min`, `3 h 05 min`, `2 d 4 h`.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "—" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min" }
        if s < 86_400 {
            let minutes = s % 3600 / 60
            return "\(s / 3600) h \(minutes < 10 ? "0" : "")\(minutes) min"
        }
        return "\(s / 86_400) d \(s % 86_400 / 3600) h"
    }

    static func sourceName(_ source: SignalSource) -> String {
        switch source {
        case .endpoint: "Endpoint (EDR)"
        case .microsoft365: "Microsoft 365"
        case .firewall: "Firewall"
        case .antivirus: "Antivirus"
        }
    }

    static func severityName(_ severity: Severity) -> String {
        switch severity {
        case .informational: "Informational"
        case .low: "Low"
        case .unknown: "Unknown"
        case .medium: "Medium"
        case .high: "High"
        case .critical: "Critical"
        }
    }

    static func targetName(_ target: SlaTargetKind) -> String {
        switch target {
        case .triage: "Triage"
        case .notify: "Notification"
        case .contain: "Containment"
        }
    }

    static func priorityNote(_ priority: Priority) -> String {
        switch priority {
        case .p1: "critical"
        case .p2: "high"
        case .p3: "medium"
        case .p4: "low"
        }
    }

    static func packageName(_ package: ServicePackage) -> String {
        switch package {
        case .compliant: "Werkplek Compliant"
        case .veilig: "Werkplek Veilig"
        case .modern: "Werkplek Modern"
        }
    }
}
