import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// The SLA clock against PostgreSQL: the timer view (`sla-timers`) and the breaches it appends. Time is the
/// harness's manual clock; nothing sleeps.
@Suite("SLA clock")
struct SlaClockTests {
    /// A tenant log, the SLA-timer projection over it and an SLA clock on the harness's manual time.
    struct Harness {
        let h: ProjectionHarness
        let timers: TenantPipeline
        let clock: SlaClock

        init(_ db: Database) {
            h = ProjectionHarness(db)
            timers = TenantPipeline([SlaTimerProjection()], store: h.store, logger: TestDatabase.logger)
            clock = SlaClock(store: h.store, time: h.time, logger: TestDatabase.logger)
        }

        /// Correlates what was ingested and brings the timer view up to date.
        func catchUp() async throws {
            try await h.correlator.drain()
            try await timers.drain()
        }

        /// Onboards acme (Compliant: SLA A) and ingests one signal about `device` at the current time; returns its incident.
        func openIncident(device: String = "ws-0042", alert: String = "a-1") async throws -> IncidentID {
            try await h.ingest([Fixtures.signal(alert: alert, device: device, severity: "high")])
            try await catchUp()
            return try #require(try await h.openedIncidents().first { $0.1 == [DeviceID(rawValue: device)!] }?.0)
        }

        func timer(_ incident: IncidentID, _ target: SlaTargetKind) async throws -> SlaTimerRecord {
            try #require(try await h.views.slaTimers(tenant: acme, incident: incident).first { $0.timer.target == target })
        }

        func breaches(_ tenant: TenantID = acme) async throws -> [(RecordedEvent, SlaBreached)] {
            try await h.store.readLog(tenant: tenant, after: 0, limit: 100_000, types: [SlaBreached.eventType]).map { recorded in
                guard case .slaBreached(let breach) = try recorded.decoded() else { throw CancellationError() }
                return (recorded, breach)
            }
        }

        func confirm(_ incident: IncidentID, _ priority: Priority) async throws {
            _ = try await h.commands.confirmIncident(tenant: acme, incident: incident, priority: priority, summary: "confirmed", context: h.context())
        }
    }

    @Test func aPassedTriageDeadlineIsRecordedOnceWithinASecond() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let s = Harness(db)
            try await s.h.onboard(acme)
            let incident = try await s.openIncident()
            let triage = try await s.timer(incident, .triage)
            #expect(triage.timer.startedAt == t0)
            #expect(try await s.h.views.runningSlaTimers(tenants: [acme]).map(\.timer.target) == [.triage])

            // At the deadline nothing is due yet; half a second past it the breach is recorded.
            s.h.time.set(triage.timer.deadline)
            #expect(try await s.clock.runOnce().appended == 0)
            s.h.time.set(triage.timer.deadline.addingTimeInterval(0.5))
            #expect(try await s.clock.runOnce().appended == 1)
            // Again, before and after the view has read the breach, and with a new clock (a restart): nothing more.
            #expect(try await s.clock.runOnce().appended == 0)
            try await s.timers.drain()
            s.h.time.advance(by: 3600)
            #expect(try await s.clock.runOnce().appended == 0)
            let restarted = SlaClock(store: s.h.store, time: s.h.time, logger: TestDatabase.logger)
            #expect(try await restarted.runOnce().appended == 0)

            let breaches = try await s.breaches()
            #expect(breaches.count == 1)
            let (recorded, breach) = try #require(breaches.first)
            #expect(recorded.stream == .incident(incident))
            #expect(recorded.metadata.actor == SlaClock.actor.id)
            #expect(recorded.eventID == SlaClock.breachEventID(tenant: acme, incident: incident, target: .triage, deadline: triage.timer.deadline))
            #expect(breach.incidentID == incident)
            #expect(breach.target == .triage)
            #expect(breach.sla == .a)
            #expect(breach.priority == triage.timer.priority)
            #expect(breach.deadline == triage.timer.deadline)
            #expect(breach.breachedAt.timeIntervalSince(breach.deadline) < 1)
            let marked = try await s.timer(incident, .triage)
            #expect(marked.breachEventID == recorded.eventID)
            #expect(marked.breachedAt == breach.breachedAt)
        }
    }

    @Test func aTimelyConfirmationRecordsNoBreach() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let s = Harness(db)
            try await s.h.onboard(acme)
            let incident = try await s.openIncident()
            s.h.time.advance(by: 5 * 60)
            try await s.confirm(incident, .p3)
            try await s.catchUp()
            let triage = try await s.timer(incident, .triage)
            #expect(triage.timer.stoppedAt == t0.addingTimeInterval(5 * 60))
            #expect(triage.timer.stoppedBy == .confirmed)
            #expect(try await s.h.views.slaTimers(tenant: acme, incident: incident).count == 1, "P3: no notify or contain timer")

            s.h.time.advance(by: 3 * 86_400)
            #expect(try await s.clock.runOnce() == SlaClock.Round(appended: 0, deferred: 0))
            #expect(try await s.breaches().isEmpty)
            #expect(try await s.h.views.runningSlaTimers().isEmpty)
        }
    }

    @Test func aConfirmationInTheLogButNotYetInTheViewHoldsTheClockBack() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let s = Harness(db)
            try await s.h.onboard(acme)
            let incident = try await s.openIncident()
            let deadline = try await s.timer(incident, .triage).timer.deadline
            s.h.time.set(deadline.addingTimeInterval(-1))
            try await s.confirm(incident, .p3)  // in time, but the view has not read it yet
            s.h.time.set(deadline.addingTimeInterval(0.2))
            #expect(try await s.clock.runOnce() == SlaClock.Round(appended: 0, deferred: 1))
            try await s.timers.drain()
            #expect(try await s.clock.runOnce() == SlaClock.Round(appended: 0, deferred: 0))
            #expect(try await s.breaches().isEmpty)
        }
    }

    @Test func aLateStopFoundAfterARestartIsStillRecordedOnce() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let s = Harness(db)
            try await s.h.onboard(acme)
            let incident = try await s.openIncident()
            let deadline = try await s.timer(incident, .triage).timer.deadline
            // The clock was down: the confirmation comes after the deadline and is read before the clock runs again.
            s.h.time.set(deadline.addingTimeInterval(120))
            try await s.confirm(incident, .p3)
            try await s.catchUp()
            #expect(try await s.timer(incident, .triage).timer.status(at: s.h.time.now()) == .breached)
            #expect(try await s.clock.runOnce().appended == 1)
            try await s.timers.drain()
            #expect(try await s.clock.runOnce().appended == 0)
            #expect(try await s.breaches().map(\.1.target) == [.triage])
        }
    }

    @Test func confirmedP1StartsNotifyAndContainAndIsolationMeetsContain() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let s = Harness(db)
            try await s.h.onboard(acme)
            let incident = try await s.openIncident()
            s.h.time.advance(by: 60)
            try await s.confirm(incident, .p1)
            s.h.time.advance(by: 10 * 60)
            _ = try await s.h.commands.isolateDevice(
                tenant: acme, device: DeviceID(rawValue: "ws-0042")!, incident: incident, type: .full, comment: "ransomware", context: s.h.context())
            try await s.h.edrReports(
                .deviceIsolated(
                    DeviceIsolated(deviceID: DeviceID(rawValue: "ws-0042")!, incidentID: incident, isolatedAt: s.h.time.now(), edrActionID: "edr-1")))
            try await s.catchUp()
            let confirmedAt = t0.addingTimeInterval(60)
            let rows = try await s.h.views.slaTimers(tenant: acme, incident: incident)
            #expect(rows.map(\.timer.target) == [.triage, .notify, .contain])
            #expect(rows[1].timer.deadline == confirmedAt.addingTimeInterval(15 * 60))
            #expect(rows[2].timer.deadline == confirmedAt.addingTimeInterval(60 * 60))
            #expect(rows[2].timer.stoppedBy == .contained)

            // No notifier yet: the notify target of a confirmed P1 breaches; triage and contain were met.
            s.h.time.advance(by: 2 * 3600)
            #expect(try await s.clock.runOnce().appended == 1)
            #expect(try await s.breaches().map(\.1.target) == [.notify])
        }
    }

    @Test func twoClocksOnTwoPoolsRecordEachBreachOnce() async throws {
        try await TestDatabase.withDatabase { db, config in
            let s = Harness(db)
            try await s.h.onboard(acme)
            let devices = (1...12).map { "ws-\($0)" }
            try await s.h.ingest(devices.map { Fixtures.signal(alert: "a-\($0)", device: $0, severity: "high") })
            try await s.catchUp()
            #expect(try await s.h.openedIncidents().count == 12)
            s.h.time.advance(by: 86_400)

            let second = Database(config, logger: TestDatabase.logger)
            try await withThrowingTaskGroup(of: Void.self) { pools in
                pools.addTask { await second.run() }
                defer { pools.cancelAll() }
                let otherStore = EventStore(database: second)
                let other = SlaClock(store: otherStore, time: s.h.time, batchSize: 3, logger: TestDatabase.logger)
                let first = SlaClock(store: s.h.store, time: s.h.time, batchSize: 3, logger: TestDatabase.logger)
                let otherTimers = TenantPipeline([SlaTimerProjection()], store: otherStore, logger: TestDatabase.logger)
                // Both instances run their projection and their clock in rounds, side by side, until nothing is due.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (clock, timers) in [(first, s.timers), (other, otherTimers)] {
                        group.addTask {
                            for _ in 0..<40 {
                                try await timers.runOnce()
                                try await clock.runOnce()
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            try await s.timers.drain()
            let breaches = try await s.breaches()
            #expect(breaches.count == 12)
            #expect(Set(breaches.map(\.1.incidentID)).count == 12)
            #expect(breaches.allSatisfy { $0.1.target == .triage })
            #expect(try await s.clock.runOnce().appended == 0)
        }
    }

    @Test func rebuildingTheTimerViewGivesTheSameRowsIncludingBreaches() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let s = Harness(db)
            try await s.h.onboard(acme)
            let first = try await s.openIncident(device: "ws-1", alert: "a-1")
            s.h.time.advance(by: 90)
            let second = try await s.openIncident(device: "ws-2", alert: "a-2")
            s.h.time.advance(by: 120)
            try await s.confirm(first, .p1)
            try await s.catchUp()
            s.h.time.advance(by: 3600.123)
            #expect(try await s.clock.runOnce().appended == 3, "second's triage, first's notify and contain")
            try await s.timers.drain()
            _ = second

            let live = try await Self.snapshot(db)
            #expect(live["sla_timer_view"]?.count == 4)
            try await s.timers.rebuild(SlaTimerProjection.projectionName)
            #expect(try await Self.snapshot(db) == live)
        }
    }

    @Test func monthlyComplianceCountsTheTimersStartedInTheAmsterdamMonth() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let s = Harness(db)
            try await s.h.onboard(acme)
            try await s.h.onboard(globex)
            // acme: confirmed (P1) after 3 minutes, isolated after 20: triage and contain met, notify breached.
            let first = try await s.openIncident(device: "ws-1", alert: "a-1")
            s.h.time.advance(by: 180)
            try await s.confirm(first, .p1)
            s.h.time.advance(by: 17 * 60)
            _ = try await s.h.commands.isolateDevice(
                tenant: acme, device: DeviceID(rawValue: "ws-1")!, incident: first, type: .full, comment: "ransomware", context: s.h.context())
            try await s.h.edrReports(
                .deviceIsolated(DeviceIsolated(deviceID: DeviceID(rawValue: "ws-1")!, incidentID: first, isolatedAt: s.h.time.now(), edrActionID: nil)))
            // globex: never triaged.
            try await s.h.ingest([Fixtures.signal(alert: "g-1", device: "ws-9", severity: "high")], tenant: globex)
            try await s.catchUp()
            s.h.time.advance(by: 86_400)

            let november = CalendarDate("2026-11-15")!
            let acmeReport = try await s.h.views.slaCompliance(tenants: [acme], month: november, at: s.h.time.now())
            #expect(acmeReport.perTarget[.triage]?.shareMet == 1)
            #expect(acmeReport.perTarget[.notify]?.shareMet == 0)
            #expect(acmeReport.perTarget[.contain]?.shareMet == 1)
            #expect(acmeReport.mttaSeconds == TimeInterval(180))
            #expect(acmeReport.mttcSeconds == TimeInterval(17 * 60))
            let all = try await s.h.views.slaCompliance(tenants: nil, month: november, sla: .a, at: s.h.time.now())
            #expect(all.perTarget[.triage]?.decided == 2)
            #expect(all.perTarget[.triage]?.met == 1)
            #expect(all.breaches.count == 2)
            #expect(try await s.h.views.slaCompliance(tenants: nil, month: CalendarDate("2026-12-01")!, at: s.h.time.now()).perTarget.isEmpty)
            #expect(try await s.h.views.slaCompliance(tenants: nil, month: november, sla: .b, at: s.h.time.now()).perTarget.isEmpty)
        }
    }

    @Test func nis2DeadlinesAreShownForConfirmedIncidentsOfTenantsInScopeOnly() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let s = Harness(db)
            var inScope = Fixtures.onboard(acme.rawValue)
            inScope.nis2InScope = true
            _ = try await s.h.commands.onboardTenant(inScope, context: s.h.context(Fixtures.dynamic))
            try await s.h.onboard(globex)
            let incident = try await s.openIncident()
            try await s.h.ingest([Fixtures.signal(alert: "g-1", device: "ws-9", severity: "high")], tenant: globex)
            try await s.catchUp()
            #expect(try await s.h.views.nis2Deadlines(tenant: acme, incident: incident) == nil, "not confirmed yet")

            s.h.time.advance(by: 600)
            try await s.confirm(incident, .p2)
            let other = try #require(try await s.h.openedIncidents(globex).first?.0)
            _ = try await s.h.commands.confirmIncident(tenant: globex, incident: other, priority: .p2, summary: "confirmed", context: s.h.context())
            try await s.catchUp()
            let confirmedAt = t0.addingTimeInterval(600)
            #expect(try await s.h.views.nis2Deadlines(tenant: acme, incident: incident) == Nis2ReportingDeadlines(awareAt: confirmedAt))
            #expect(try await s.h.views.nis2Deadlines(tenant: globex, incident: other) == nil, "globex is not in NIS2 scope")
        }
    }

    static func snapshot(_ db: Database) async throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for table in ["sla_tenant_view", "sla_incident_view", "sla_timer_view"] {
            let rows = try await db.client.query(
                PostgresQuery(unsafeSQL: "SELECT to_jsonb(t)::text FROM \(table) t ORDER BY 1"), logger: TestDatabase.logger)
            var lines: [String] = []
            for try await line in rows.decode(String.self) { lines.append(line) }
            out[table] = lines
        }
        return out
    }
}
