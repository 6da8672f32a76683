import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import MDRReports
import MDRStore
import MDRTestSupport
import Testing

/// Reports over a real log: signals and incidents go in through the command service and the correlator, the
/// projections build the views, and the builder reads them.
@Suite struct ReportDatabaseTests {
    static let acme = TenantID(rawValue: "acme")!
    /// Sunday 29 November 2026, 10:00 UTC.
    static let t0 = Timestamp.parse("2026-11-29T10:00:00Z")!

    struct World {
        let database: Database
        let store: EventStore
        let commands: CommandService
        let time: ManualTime
        let correlator: TenantPipeline
        let runner: TenantPipeline

        init(_ database: Database) {
            self.database = database
            store = EventStore(database: database)
            time = ManualTime(ReportDatabaseTests.t0)
            commands = CommandService(store: store, time: time)
            correlator = TenantPipeline([ProcessManager(CorrelationProcessor())], store: store, logger: TestDatabase.logger)
            runner = TenantPipeline(ReadModels.standard(), store: store, logger: TestDatabase.logger)
        }

        var soc: CommandContext { CommandContext(principal: Fixtures.soc, commandID: nil) }
        var builder: ReportBuilder { ReportBuilder(database: database) }

        func ingest(_ signals: [[String: Any]]) async throws -> IngestReport {
            try await commands.ingestNativeSignals(tenant: acme, body: Fixtures.signalBatch(signals), context: soc).result
        }

        /// The incidents opened so far, with their devices.
        func incidents() async throws -> [Incident] {
            try await correlator.drain()
            var out: [Incident] = []
            for e in try await store.readLog(tenant: acme, after: 0, limit: 10_000, types: [IncidentOpened.eventType]) {
                guard case .incidentOpened(let opened) = try e.decoded() else { continue }
                out.append(try #require(try await QueryService(store: store).incident(tenant: acme, opened.incidentID)).0)
            }
            return out
        }
    }

    /// November: signals of three sources over two days (one suppressed, one updated, one duplicate), incidents
    /// confirmed and dismissed, a device isolated; then a signal received at 00:30 on 1 December in Amsterdam.
    static func november(_ w: World) async throws -> (incidents: [Incident], confirmed: Incident, dismissed: Incident) {
        _ = try await w.commands.onboardTenant(Fixtures.onboard("acme", at: t0), context: CommandContext(principal: Fixtures.dynamic, commandID: nil))
        _ = try await w.commands.recordHealthCheck(tenant: acme, source: .endpoint, status: .delivering, missing: [], context: w.soc)
        _ = try await w.commands.recordHealthCheck(tenant: acme, source: .microsoft365, status: .missing, missing: ["mail"], context: w.soc)
        _ = try await w.commands.addSuppressionRule(
            tenant: acme, match: SuppressionMatch(titleContains: "Benign scanner"), reason: "the customer's scanner", expiresAt: nil, context: w.soc)
        var scanner = Fixtures.signal(alert: "benign-1", device: "ws-9", severity: "low")
        scanner["title"] = "Benign scanner sweep"
        let first = try await w.ingest([
            Fixtures.signal(alert: "e1", device: "ws-1", severity: "high"),
            Fixtures.signal(alert: "e2", device: "ws-2", severity: "critical"),
            Fixtures.signal(alert: "a1", device: "ws-1", severity: "medium", source: "antivirus"),
            Fixtures.signal(alert: "f1", device: nil, severity: "informational", source: "firewall", ips: ["203.0.113.7"]),
            scanner,
        ])
        #expect(first.accepted == 4)
        w.time.set(t0.addingTimeInterval(86_400))  // Monday 30 November
        let second = try await w.ingest([
            Fixtures.signal(alert: "e1", device: "ws-1", severity: "high"),  // duplicate: nothing appended
            Fixtures.signal(alert: "e2", device: "ws-2", severity: "critical", status: "inProgress"),  // updated
            Fixtures.signal(alert: "e3", device: "ws-3", severity: "medium"),
            ["source": "endpoint", "severity": "high"],  // rejected: no alert id, nothing appended
        ])
        #expect(second.duplicates == 1 && second.rejected == 1)
        let incidents = try await w.incidents()
        let confirmed = try #require(incidents.first { $0.devices.contains(DeviceID(rawValue: "ws-1")!) })
        let dismissed = try #require(incidents.first { $0.devices.contains(DeviceID(rawValue: "ws-2")!) })
        w.time.advance(by: 3600)
        _ = try await w.commands.confirmIncident(tenant: acme, incident: confirmed.id, priority: .p1, summary: "ransomware", context: w.soc)
        _ = try await w.commands.dismissIncident(
            tenant: acme, incident: dismissed.id, classification: .falsePositive, reason: "admin tool", context: w.soc)
        let ws1 = DeviceID(rawValue: "ws-1")!
        _ = try await w.commands.isolateDevice(tenant: acme, device: ws1, incident: confirmed.id, type: .full, comment: "contain", context: w.soc)
        _ = try await w.store.append(
            tenant: acme,
            events: [
                EventToAppend(
                    .deviceIsolated(DeviceIsolated(deviceID: ws1, incidentID: confirmed.id, isolatedAt: w.time.now(), edrActionID: "edr-1")),
                    metadata: EventMetadata(principal: .system("edr")))
            ], expectations: [:], command: nil)
        // 23:30 UTC on 30 November is 00:30 on 1 December in Amsterdam: December's.
        w.time.set(Timestamp.parse("2026-11-30T23:30:00Z")!)
        _ = try await w.ingest([Fixtures.signal(alert: "dec-1", device: "ws-4", severity: "high")])
        _ = try await w.incidents()
        try await w.runner.drain()
        return (incidents, confirmed, dismissed)
    }

    @Test func aMonthlyReportCountsWhatTheLogRecorded() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let w = World(db)
            let (incidents, confirmed, _) = try await Self.november(w)
            let now = Timestamp.parse("2026-12-01T08:00:00Z")!
            let report = try await w.builder.report(tenant: Self.acme, period: try ReportPeriod.month("2026-11"), at: now)

            #expect(report.tenant.name == "Tenant acme" && report.tenant.sla == .a && report.tenant.package == .compliant)
            #expect(report.period.from == CalendarDate("2026-11-01")! && report.period.days == 30)
            let s = report.signals
            #expect(s.received == 6)
            #expect(s.outcomes.accepted == 5 && s.outcomes.suppressed == 1 && s.outcomes.updated == 1)
            // Duplicates and malformed signals append nothing; intake counted them for the report.
            #expect(s.outcomes.duplicate == 1 && s.outcomes.rejected == 1)
            #expect(s.noise == 2 && s.informational == 1)
            let endpoint = try #require(s.bySource.first { $0.source == .endpoint })
            #expect(endpoint.total == 4)
            #expect(endpoint.bySeverity.critical == 1 && endpoint.bySeverity.high == 1 && endpoint.bySeverity.medium == 1 && endpoint.bySeverity.low == 1)
            #expect(s.bySource.first { $0.source == .antivirus }?.bySeverity.medium == 1)
            #expect(s.bySource.first { $0.source == .firewall }?.bySeverity.informational == 1)
            // Correlated: the November signals of the November incidents, as their streams list them.
            #expect(s.correlated == incidents.reduce(0) { $0 + $1.signals.count })
            #expect(s.correlated >= 4)

            #expect(report.incidents.opened == incidents.count)
            #expect(report.incidents.confirmed == 1 && report.incidents.confirmedByPriority.P1 == 1)
            #expect(report.incidents.dismissed == 1 && report.incidents.dismissedByClassification.falsePositive == 1)
            #expect(report.incidents.resolved == 0)
            #expect(report.devices.isolationsRequested == 1 && report.devices.isolated == 1 && report.devices.devicesIsolated == 1)
            #expect(report.devices.isolatedDevices.map(\.deviceID.rawValue) == ["ws-1"])
            #expect(report.devices.isolatedDevices.first?.incidentID == confirmed.id && report.devices.isolatedDevices.first?.releasedAt == nil)
            #expect(report.incidents.confirmedIncidents.map(\.id) == [confirmed.id])
            #expect(report.incidents.confirmedIncidents.first?.summary == "ransomware" && report.incidents.confirmedIncidents.first?.priority == .p1)

            // The SLA figures are those of the SLA dashboard for the month.
            let dashboard = try await ReadModels(database: db).slaCompliance(tenants: [Self.acme], month: CalendarDate("2026-11-01")!, at: now)
            let triage = try #require(report.sla.targets.first { $0.target == .triage })
            #expect(triage.decided + triage.running == incidents.count)
            #expect(triage.met == dashboard.perTarget[.triage]?.met && triage.breached == dashboard.perTarget[.triage]?.breached)
            #expect(triage.meanSeconds == dashboard.perTarget[.triage]?.meanSeconds)

            let coverage = Dictionary(uniqueKeysWithValues: report.coverage.map { ($0.source, $0) })
            #expect(coverage[.endpoint]?.healthCheck == .delivering && coverage[.endpoint]?.daysWithSignals == 2)
            #expect(coverage[.microsoft365]?.healthCheck == .missing && coverage[.microsoft365]?.missing == ["mail"])
            #expect(coverage[.microsoft365]?.daysWithSignals == 0)
            #expect(coverage[.antivirus]?.healthCheck == nil && coverage[.antivirus]?.daysWithSignals == 1)
        }
    }

    @Test func aSignalAfterAmsterdamMidnightBelongsToTheNextDay() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let w = World(db)
            _ = try await Self.november(w)
            let december = try await w.builder.report(
                tenant: Self.acme, period: try ReportPeriod.days(from: "2026-12-01", to: "2026-12-01"), at: Date())
            #expect(december.signals.received == 1 && december.signals.bySource.first { $0.source == .endpoint }?.bySeverity.high == 1)
            #expect(december.incidents.opened == 1)
            #expect(december.coverage.first { $0.source == .endpoint }?.daysWithSignals == 1)
            // The per-outcome statistics still add the severities up (billing and older readers).
            let rows = try await ReadModels(database: db).signalStatistics(tenant: Self.acme, from: CalendarDate("2026-11-29")!, to: CalendarDate("2026-11-29")!)
            #expect(rows.first { $0.source == .endpoint && $0.outcome == .accepted }?.signals == 2)
        }
    }

    @Test func aRebuiltViewGivesTheSameReport() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let w = World(db)
            _ = try await Self.november(w)
            let now = Timestamp.parse("2026-12-01T08:00:00Z")!
            let before = try await w.builder.report(tenant: Self.acme, period: try ReportPeriod.month("2026-11"), at: now)
            try await w.runner.rebuild(SignalStatisticsProjection().name)
            try await w.runner.drain()
            #expect(try await w.builder.report(tenant: Self.acme, period: try ReportPeriod.month("2026-11"), at: now) == before)
        }
    }

    @Test func anUnknownTenantHasNoReport() async throws {
        try await TestDatabase.withDatabase { db, _ in
            await #expect(throws: DomainError.self) {
                try await ReportBuilder(database: db).report(tenant: TenantID(rawValue: "nobody")!, period: try ReportPeriod.month("2026-11"), at: Date())
            }
        }
    }
}
