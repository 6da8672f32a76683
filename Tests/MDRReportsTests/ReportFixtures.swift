import Foundation
@testable import MDRDomain
@testable import MDRProjections
import MDRStore
@testable import MDRReports

/// A month of facts with known figures, for the pure tests: November 2026 of tenant `acme`.
enum ReportFixtures {
    static let acme = TenantID(rawValue: "acme")!
    static let november = try! ReportPeriod.month("2026-11")
    static let tenant = TenantReport.Tenant(id: acme, name: "Acme B.V.", package: .compliant, sla: .a)
    /// 1 December 2026 09:00 in Amsterdam.
    static let generatedAt = Timestamp.parse("2026-12-01T08:00:00Z")!

    static func at(_ text: String) -> Date { Timestamp.parse(text)! }
    static func day(_ text: String) -> CalendarDate { CalendarDate(text)! }

    static func incident(
        opened: String, confirmed: String? = nil, closed: String? = nil, status: IncidentStatus, priority: Priority? = nil,
        dismissal: DismissalClassification? = nil, summary: String? = nil, devices: [String] = []
    ) -> IncidentSummary {
        IncidentSummary(
            tenant: acme, id: IncidentID(rawValue: UUID()), status: status, priority: priority, candidatePriority: priority, severity: .high,
            summary: summary, openedAt: at(opened), confirmedAt: confirmed.map(at), confirmedBy: confirmed == nil ? nil : "token:soc",
            closedAt: closed.map(at), closedBy: closed == nil ? nil : "token:soc", closingNote: nil, dismissal: dismissal,
            devices: devices.compactMap(DeviceID.init(rawValue:)),
            users: [], sources: [.endpoint], signalCount: 1)
    }

    static func timer(_ target: SlaTargetKind, started: String, minutes: Int, stoppedAfter: Int?) -> SlaTimer {
        let start = at(started)
        return SlaTimer(
            incidentID: IncidentID(rawValue: UUID()), target: target, priority: .p1, sla: .a, policyVersion: "test",
            rule: .within(minutes: minutes, clock: .continuous), startedAt: start, deadline: start.addingTimeInterval(Double(minutes * 60)),
            stoppedAt: stoppedAfter.map { start.addingTimeInterval(Double($0 * 60)) }, stoppedBy: stoppedAfter == nil ? nil : .confirmed,
            elapsed: stoppedAfter.map { Double($0 * 60) })
    }

    static var facts: ReportFacts {
        ReportFacts(
            tenant: tenant, period: november,
            signals: [
                .init(day: day("2026-11-02"), source: .endpoint, severity: .high, outcome: .accepted, signals: 10),
                .init(day: day("2026-11-02"), source: .endpoint, severity: .critical, outcome: .accepted, signals: 2),
                .init(day: day("2026-11-03"), source: .endpoint, severity: .low, outcome: .suppressed, signals: 5),
                .init(day: day("2026-11-03"), source: .endpoint, severity: .high, outcome: .updated, signals: 4),
                .init(day: day("2026-11-03"), source: .firewall, severity: .informational, outcome: .accepted, signals: 7),
                .init(day: day("2026-11-30"), source: .microsoft365, severity: .medium, outcome: .accepted, signals: 1),
                // Outside the period: not counted.
                .init(day: day("2026-12-01"), source: .antivirus, severity: .high, outcome: .accepted, signals: 99),
            ],
            correlated: [.endpoint: 6, .microsoft365: 1],
            incidents: [
                // Opened in October, confirmed in November: counted as confirmed only.
                incident(
                    opened: "2026-10-31T22:30:00Z", confirmed: "2026-11-01T08:00:00Z", status: .confirmed, priority: .p1,
                    summary: "Ransomware <b>staged</b> on a file server", devices: ["srv-files"]),
                incident(
                    opened: "2026-11-02T10:00:00Z", confirmed: "2026-11-02T10:10:00Z", closed: "2026-11-05T12:00:00Z", status: .resolved,
                    priority: .p2, summary: "Credential theft", devices: ["ws-1", "ws-2"]),
                incident(opened: "2026-11-03T10:00:00Z", closed: "2026-11-03T11:00:00Z", status: .dismissed, dismissal: .falsePositive),
                // Dismissed after the period: opened only.
                incident(opened: "2026-11-30T22:00:00Z", closed: "2026-12-01T09:00:00Z", status: .dismissed, dismissal: .benignPositive),
            ],
            isolations: [
                .init(deviceID: DeviceID(rawValue: "ws-1")!, state: .pending, at: at("2026-11-02T10:20:00Z")),
                .init(deviceID: DeviceID(rawValue: "ws-1")!, state: .isolated, at: at("2026-11-02T10:21:00Z")),
                .init(deviceID: DeviceID(rawValue: "ws-2")!, state: .pending, at: at("2026-11-02T10:20:00Z")),
                .init(deviceID: DeviceID(rawValue: "ws-2")!, state: .failed, at: at("2026-11-02T10:25:00Z")),
                .init(deviceID: DeviceID(rawValue: "ws-1")!, state: .releasePending, at: at("2026-11-04T10:20:00Z")),
                .init(deviceID: DeviceID(rawValue: "ws-1")!, state: .released, at: at("2026-11-04T10:21:00Z")),
            ],
            slaTimers: [
                timer(.triage, started: "2026-11-02T10:00:00Z", minutes: 15, stoppedAfter: 10),
                timer(.triage, started: "2026-11-03T10:00:00Z", minutes: 15, stoppedAfter: 20),
                timer(.triage, started: "2026-11-04T10:00:00Z", minutes: 15, stoppedAfter: 5),
                timer(.triage, started: "2026-11-04T11:00:00Z", minutes: 15, stoppedAfter: 6),
                timer(.contain, started: "2026-11-02T10:10:00Z", minutes: 60, stoppedAfter: 11),
            ],
            healthChecks: [
                HealthCheck(source: .endpoint, status: .delivering, missing: [], checkedAt: at("2026-10-01T09:00:00Z"), checkedBy: "token:dynamic"),
                HealthCheck(source: .microsoft365, status: .missing, missing: ["mail"], checkedAt: at("2026-10-01T09:00:00Z"), checkedBy: "token:dynamic"),
            ],
            filtered: [
                .init(day: day("2026-11-02"), source: .endpoint, outcome: .duplicate, signals: 2),
                .init(day: day("2026-11-20"), source: .firewall, outcome: .duplicate, signals: 1),
                .init(day: day("2026-11-20"), source: nil, outcome: .rejected, signals: 2),
                // Outside the period: not counted.
                .init(day: day("2026-12-01"), source: .endpoint, outcome: .duplicate, signals: 50),
            ])
    }

    static var report: TenantReport { ReportAssembler.report(facts, at: generatedAt) }
}
