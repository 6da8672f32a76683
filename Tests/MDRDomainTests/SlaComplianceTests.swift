import Foundation
import Testing

@testable import MDRDomain

@Suite("SLA compliance figures")
struct SlaComplianceTests {
    static let start = Fixtures.time("2026-11-02T09:00:00Z")
    static let endOfMonth = Fixtures.time("2026-12-01T00:00:00Z")

    /// A 24/7 timer of `deadlineMinutes`, stopped after `stoppedMinutes` (or running).
    static func timer(
        _ n: Int, _ target: SlaTargetKind, _ priority: Priority = .p1, deadline deadlineMinutes: Double, stopped stoppedMinutes: Double?,
        by: SlaStop? = nil, startedAt: Date = start
    ) -> SlaTimer {
        let rule = SlaDeadlineRule.within(minutes: Int(deadlineMinutes), clock: .continuous)
        let stoppedAt = stoppedMinutes.map { startedAt.addingTimeInterval($0 * 60) }
        return SlaTimer(
            incidentID: Fixtures.incidentID(n), target: target, priority: priority, sla: .a, policyVersion: "2026-11", rule: rule,
            startedAt: startedAt, deadline: startedAt.addingTimeInterval(deadlineMinutes * 60), stoppedAt: stoppedAt,
            stoppedBy: stoppedAt == nil ? nil : (by ?? (target == .triage ? .confirmed : target == .contain ? .contained : .notified)),
            elapsed: stoppedMinutes.map { $0 * 60 })
    }

    @Test func shareMetMeanAndP90PerTarget() throws {
        // Ten P1 triage timers of 15 minutes taking 1…10 minutes, two of 20 and 30 minutes (breached).
        var timers = (1...10).map { Self.timer($0, .triage, deadline: 15, stopped: Double($0)) }
        timers += [Self.timer(11, .triage, deadline: 15, stopped: 20), Self.timer(12, .triage, deadline: 15, stopped: 30)]
        let report = SlaCompliance.report(timers, at: Self.endOfMonth)
        let triage = try #require(report.perTarget[.triage])
        #expect(triage.decided == 12)
        #expect(triage.met == 10)
        #expect(triage.breached == 2)
        #expect(triage.shareMet == 10.0 / 12.0)
        #expect(triage.meanSeconds == (55.0 + 50.0) / 12.0 * 60)
        #expect(triage.p90Seconds == TimeInterval(20 * 60), "nearest rank: the 11th of 12 sorted values")
        #expect(report.breaches.map(\.incidentID) == [Fixtures.incidentID(11), Fixtures.incidentID(12)])
        #expect(report.perTargetAndPriority[.triage]?[.p1] == triage)
    }

    @Test func anOverdueRunningTimerCountsAsBreachedAndARunningOneNotAtAll() throws {
        let overdue = Self.timer(1, .contain, deadline: 60, stopped: nil)
        let running = Self.timer(2, .contain, deadline: 60, stopped: nil, startedAt: Self.endOfMonth.addingTimeInterval(-600))
        let met = Self.timer(3, .contain, deadline: 60, stopped: 45)
        let figures = try #require(SlaCompliance.report([overdue, running, met], at: Self.endOfMonth).perTarget[.contain])
        #expect(figures.decided == 2)
        #expect(figures.running == 1)
        #expect(figures.shareMet == 0.5)
        #expect(figures.meanSeconds == TimeInterval(45 * 60), "only stopped timers have a time")
    }

    @Test func priorityRowsAreSeparate() throws {
        let report = SlaCompliance.report(
            [Self.timer(1, .triage, .p1, deadline: 15, stopped: 20), Self.timer(2, .triage, .p2, deadline: 30, stopped: 20)], at: Self.endOfMonth)
        #expect(report.perTargetAndPriority[.triage]?[.p1]?.shareMet == 0)
        #expect(report.perTargetAndPriority[.triage]?[.p2]?.shareMet == 1)
        #expect(report.perTarget[.triage]?.shareMet == 0.5)
    }

    @Test func mttaAveragesTriageAndMttcOnlyIsolationsInRealTime() {
        let timers = [
            Self.timer(1, .triage, deadline: 15, stopped: 4), Self.timer(2, .triage, deadline: 15, stopped: 8, by: .dismissed),
            Self.timer(3, .triage, deadline: 15, stopped: nil),
            Self.timer(1, .contain, deadline: 60, stopped: 30), Self.timer(4, .contain, deadline: 60, stopped: 90),
            Self.timer(5, .contain, deadline: 60, stopped: 5, by: .resolved),
        ]
        let report = SlaCompliance.report(timers, at: Self.endOfMonth)
        #expect(report.mttaSeconds == TimeInterval(6 * 60))
        #expect(report.mttcSeconds == TimeInterval(60 * 60))
    }

    @Test func noTimersGiveNoFigures() {
        let report = SlaCompliance.report([], at: Self.endOfMonth)
        #expect(report.perTarget.isEmpty)
        #expect(report.mttaSeconds == nil)
        #expect(report.mttcSeconds == nil)
        #expect(SlaCompliance.figures([], at: Self.endOfMonth).shareMet == nil)
    }

    @Test(
        "Nearest-rank percentiles",
        arguments: [([5.0], 90, 5.0), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9.0), ([10, 1, 2], 90, 10.0), ([1, 2, 3, 4], 50, 2.0)])
    func percentileByNearestRank(values: [Double], p: Int, expected: Double) {
        #expect(SlaCompliance.percentile(p, of: values) == expected)
    }
}
