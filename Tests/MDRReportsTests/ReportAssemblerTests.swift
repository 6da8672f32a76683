import Foundation
import MDRDomain
import MDRReports
import Testing

@Suite struct ReportAssemblerTests {
    let report = ReportFixtures.report

    @Test func signalsAreNewSignalsPerSourceAndSeverityInThePeriod() {
        let s = report.signals
        #expect(s.received == 10 + 2 + 5 + 7 + 1)
        let endpoint = s.bySource.first { $0.source == .endpoint }!
        #expect(endpoint.total == 17)
        #expect(endpoint.bySeverity.high == 10 && endpoint.bySeverity.critical == 2 && endpoint.bySeverity.low == 5)
        #expect(endpoint.correlated == 6)
        // The December row of the antivirus is outside the period; every source has an entry.
        #expect(s.bySource.map(\.source) == SignalSource.allCases)
        #expect(s.bySource.first { $0.source == .antivirus }!.total == 0)
        #expect(s.bySeverity.informational == 7 && s.informational == 7)
        #expect(s.bySeverity.total == s.received)
    }

    @Test func outcomesSeparateNoiseFromUpdatesAndCountTheFilteredOnes() {
        let o = report.signals.outcomes
        #expect(o.accepted == 20 && o.suppressed == 5 && o.updated == 4)
        #expect(o.duplicate == 3 && o.rejected == 2, "December's counts are outside the period")
        #expect(report.signals.noise == 5 + 3)
        #expect(report.signals.correlated == 7)
    }

    @Test func incidentStepsAreCountedInThePeriodTheyHappened() {
        let i = report.incidents
        #expect(i.opened == 3)
        #expect(i.confirmed == 2 && i.confirmedByPriority.P1 == 1 && i.confirmedByPriority.P2 == 1)
        #expect(i.dismissed == 1 && i.dismissedByClassification.falsePositive == 1 && i.dismissedByClassification.benignPositive == 0)
        #expect(i.resolved == 1)
        // The confirmed incidents listed, oldest first; the one opened in October is listed for its confirmation.
        #expect(i.confirmedIncidents.map(\.summary) == ["Ransomware <b>staged</b> on a file server", "Credential theft"])
        #expect(i.confirmedIncidents.map(\.status) == [.confirmed, .resolved])
        #expect(i.confirmedIncidents[0].resolvedAt == nil && i.confirmedIncidents[1].resolvedAt == ReportFixtures.at("2026-11-05T12:00:00Z"))
        #expect(i.confirmedIncidents[1].devices.map(\.rawValue) == ["ws-1", "ws-2"])
    }

    @Test func devicesCountIsolationsFailuresAndReleases() {
        let d = report.devices
        #expect(d.isolationsRequested == 2 && d.isolated == 1 && d.devicesIsolated == 1 && d.isolationsFailed == 1 && d.released == 1)
        // The failed isolation of ws-2 isolated nothing: only ws-1 is listed, with its release.
        #expect(d.isolatedDevices.map(\.deviceID.rawValue) == ["ws-1"])
        #expect(d.isolatedDevices.first?.isolatedAt == ReportFixtures.at("2026-11-02T10:21:00Z"))
        #expect(d.isolatedDevices.first?.releasedAt == ReportFixtures.at("2026-11-04T10:21:00Z"))
    }

    @Test func slaComplianceIsPerTargetWithShareMeanAndP90() {
        let triage = report.sla.targets.first { $0.target == .triage }!
        #expect(report.sla.targets.map(\.target) == [.triage, .notify, .contain])
        #expect(triage.decided == 4 && triage.met == 3 && triage.breached == 1)
        #expect(triage.shareMet == 0.75)
        let mean: Double = (10 + 20 + 5 + 6) * 60 / 4
        #expect(triage.meanSeconds == mean)
        #expect(triage.p90Seconds == Double(1200))
        #expect(report.sla.targets.first { $0.target == .notify }!.shareMet == nil)
        #expect(report.sla.breaches == 1)
        #expect(report.sla.level == .a)
    }

    @Test func coverageJoinsTheHealthCheckWithTheDaysASourceDelivered() {
        let endpoint = report.coverage.first { $0.source == .endpoint }!
        #expect(endpoint.healthCheck == .delivering && endpoint.daysWithSignals == 2)
        #expect(endpoint.shareOfDays == 2.0 / 30)
        let m365 = report.coverage.first { $0.source == .microsoft365 }!
        #expect(m365.healthCheck == .missing && m365.missing == ["mail"] && m365.daysWithSignals == 1)
        let antivirus = report.coverage.first { $0.source == .antivirus }!
        #expect(antivirus.healthCheck == nil && antivirus.daysWithSignals == 0)
    }

    @Test func theJSONFieldNamesAreStable() throws {
        let json = try JSONSerialization.jsonObject(with: ReportRenderer.json(report)) as! [String: Any]
        #expect(Set(json.keys) == ["reportVersion", "tenant", "period", "generatedAt", "signals", "incidents", "devices", "sla", "coverage"])
        let period = json["period"] as! [String: Any]
        #expect(period["from"] as? String == "2026-11-01" && period["to"] as? String == "2026-11-30" && period["timeZone"] as? String == "Europe/Amsterdam")
        #expect(json["generatedAt"] as? String == "2026-12-01T08:00:00.000Z")
        let signals = json["signals"] as! [String: Any]
        let outcomes = signals["outcomes"] as! [String: Any]
        #expect(outcomes["duplicate"] as? Int == 3 && outcomes["rejected"] as? Int == 2)
        let sources = signals["bySource"] as! [[String: Any]]
        #expect((sources[0]["bySeverity"] as! [String: Any]).keys.sorted() == ["critical", "high", "informational", "low", "medium", "unknown"])
        let incidents = json["incidents"] as! [String: Any]
        #expect((incidents["confirmedByPriority"] as! [String: Int]) == ["P1": 1, "P2": 1, "P3": 0, "P4": 0])
        // And back: the JSON is the report.
        #expect(try JSONCoding.decoder().decode(TenantReport.self, from: ReportRenderer.json(report)) == report)
    }
}
