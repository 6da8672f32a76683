import Foundation
import Testing

@testable import MDRDomain

/// The SLA timers of one incident, from its facts. Times are Amsterdam wall-clock times with their offset.
@Suite("SLA timers")
struct IncidentSlaTimersTests {
    static let incident = Fixtures.incidentID(1)
    static let slaA = SlaTerms(sla: .a)
    static let slaB = SlaTerms(sla: .b)
    /// Monday 30 November 2026, 10:00 in Amsterdam (09:00 UTC), within office hours.
    static let monday = Fixtures.time("2026-11-30T10:00:00+01:00")
    static func at(_ minutes: Double) -> Date { monday.addingTimeInterval(minutes * 60) }

    static func fold(_ facts: [SlaFact], _ terms: SlaTerms = slaA) -> IncidentSlaTimers {
        IncidentSlaTimers.fold(incident, facts, terms: terms)
    }

    @Test func triageStartsAtOpeningWithTheCandidatePrioritysTarget() throws {
        let timers = Self.fold([.opened(at: Self.monday, priority: .p2)])
        let triage = try #require(timers.timers[.triage])
        #expect(timers.timers.count == 1)
        #expect(triage.startedAt == Self.monday)
        #expect(triage.deadline == Self.at(30))
        #expect(triage.priority == .p2)
        #expect(triage.policyVersion == "2026-11")
        #expect(triage.status(at: Self.at(30)) == .running)
        #expect(triage.status(at: Self.at(30.001)) == .breached)
        #expect(triage.remaining(at: Self.at(10)) == TimeInterval(20 * 60))
        #expect(triage.remaining(at: Self.at(40)) == TimeInterval(-10 * 60))
    }

    @Test func aRaisedPriorityShortensARunningTriageDeadlineFromItsStart() {
        let timers = Self.fold([.opened(at: Self.monday, priority: .p2), .priorityChanged(to: .p1, at: Self.at(5))])
        #expect(timers.timers[.triage]?.deadline == Self.at(15))
        #expect(timers.timers[.triage]?.priority == .p1)
        #expect(timers.priority == .p1)
    }

    @Test func aRaiseAfterTheNewDeadlineBreachesAtOnce() {
        // P2 candidate (30 min), raised to P1 (15 min) after 20 minutes: the P1 deadline has already passed.
        let timers = Self.fold([.opened(at: Self.monday, priority: .p2), .priorityChanged(to: .p1, at: Self.at(20))])
        #expect(timers.timers[.triage]?.deadline == Self.at(15))
        #expect(timers.timers[.triage]?.status(at: Self.at(20)) == .breached)
    }

    @Test func aChangeAfterTheOldDeadlinePassedLeavesTheBreachStanding() {
        // P1 candidate breached at 15 min; confirming as P3 at 20 min does not turn it into "met".
        let timers = Self.fold([.opened(at: Self.monday, priority: .p1), .confirmed(priority: .p3, at: Self.at(20))])
        let triage = timers.timers[.triage]
        #expect(triage?.deadline == Self.at(15))
        #expect(triage?.priority == .p1)
        #expect(triage?.status(at: Self.at(60)) == .breached)
    }

    @Test func confirmationStopsTriageAndStartsNotifyAndContainForP1() throws {
        let timers = Self.fold([.opened(at: Self.monday, priority: .p2), .confirmed(priority: .p1, at: Self.at(10))])
        let triage = try #require(timers.timers[.triage])
        #expect(triage.deadline == Self.at(15), "recomputed with the confirmed priority")
        #expect(triage.stoppedAt == Self.at(10))
        #expect(triage.stoppedBy == .confirmed)
        #expect(triage.elapsed == 600)
        #expect(triage.status(at: Self.at(100)) == .met)
        #expect(triage.remaining(at: Self.at(11)) == nil)
        #expect(timers.timers[.notify]?.startedAt == Self.at(10))
        #expect(timers.timers[.notify]?.deadline == Self.at(25))
        #expect(timers.timers[.contain]?.deadline == Self.at(70))
        #expect(timers.sorted.map(\.target) == [.triage, .notify, .contain])
    }

    @Test func confirmationLaterThanTheRecomputedDeadlineIsABreach() {
        // Candidate P2 (30 min); confirmed P1 at 20 min: the P1 triage target (15 min) was missed.
        let timers = Self.fold([.opened(at: Self.monday, priority: .p2), .confirmed(priority: .p1, at: Self.at(20))])
        #expect(timers.timers[.triage]?.status(at: Self.at(20)) == .breached)
        #expect(timers.timers[.triage]?.breach(at: Self.at(20))?.deadline == Self.at(15))
    }

    @Test(arguments: [Priority.p3, .p4])
    func lowPriorityConfirmationStartsNoNotifyOrContainTimer(priority: Priority) {
        let timers = Self.fold([.opened(at: Self.monday, priority: priority), .confirmed(priority: priority, at: Self.at(120))])
        #expect(timers.timers.keys.sorted() == [.triage])
        #expect(timers.timers[.triage]?.deadline == Fixtures.time("2026-12-01T17:30:00+01:00"))
        #expect(timers.timers[.triage]?.status(at: Self.at(120)) == .met)
    }

    @Test func dismissalStopsTriageAndStartsNothing() {
        let timers = Self.fold([.opened(at: Self.monday, priority: .p1), .dismissed(at: Self.at(7))])
        #expect(timers.timers.count == 1)
        #expect(timers.timers[.triage]?.stoppedBy == .dismissed)
        #expect(timers.timers[.triage]?.status(at: Self.at(100)) == .met)
    }

    @Test func isolationStopsContainAndDeliveryStopsNotify() {
        let timers = Self.fold([
            .opened(at: Self.monday, priority: .p1), .confirmed(priority: .p1, at: Self.at(10)),
            .dynamicNotified(at: Self.at(30)), .contained(at: Self.at(50)), .contained(at: Self.at(55)),
        ])
        #expect(timers.timers[.notify]?.stoppedAt == Self.at(30))
        #expect(timers.timers[.notify]?.status(at: Self.at(30)) == .breached, "15 min to notify, took 20")
        #expect(timers.timers[.contain]?.stoppedAt == Self.at(50), "the first isolation counts")
        #expect(timers.timers[.contain]?.stoppedBy == .contained)
        #expect(timers.timers[.contain]?.status(at: Self.at(100)) == .met)
    }

    @Test func resolutionStopsContainButNotNotify() {
        let timers = Self.fold([
            .opened(at: Self.monday, priority: .p1), .confirmed(priority: .p1, at: Self.at(10)), .resolved(at: Self.at(40)),
        ])
        #expect(timers.timers[.contain]?.stoppedBy == .resolved)
        #expect(timers.timers[.notify]?.stoppedAt == nil)
        #expect(timers.timers[.notify]?.status(at: Self.at(40)) == .breached)
    }

    @Test func slaBBusinessHourTargetsRunOnlyInOfficeHours() throws {
        // P2 under SLA B confirmed Friday 27 November 2026 at 16:00: notify 4 business hours, contain 8.
        let friday = Fixtures.time("2026-11-27T16:00:00+01:00")
        let timers = Self.fold([.opened(at: friday.addingTimeInterval(-600), priority: .p2), .confirmed(priority: .p2, at: friday)], Self.slaB)
        #expect(timers.timers[.notify]?.deadline == Fixtures.time("2026-11-30T10:30:00+01:00"))
        #expect(timers.timers[.contain]?.deadline == Fixtures.time("2026-11-30T14:30:00+01:00"))
        let stopped = Self.fold(
            [
                .opened(at: friday.addingTimeInterval(-600), priority: .p2), .confirmed(priority: .p2, at: friday),
                .contained(at: Fixtures.time("2026-11-30T09:00:00+01:00")),
            ], Self.slaB)
        let contain = try #require(stopped.timers[.contain])
        #expect(contain.elapsed == TimeInterval(150 * 60), "90 minutes on Friday and 60 on Monday: business time")
        #expect(contain.status(at: Fixtures.time("2026-12-01T00:00:00Z")) == .met)
    }

    @Test func aSecondOpeningOrConfirmationChangesNothing() {
        let once = Self.fold([.opened(at: Self.monday, priority: .p1), .confirmed(priority: .p1, at: Self.at(5))])
        let twice = Self.fold([
            .opened(at: Self.monday, priority: .p1), .opened(at: Self.at(1), priority: .p4), .confirmed(priority: .p1, at: Self.at(5)),
            .confirmed(priority: .p2, at: Self.at(9)),
        ])
        #expect(once == twice)
    }

    @Test func aBreachCarriesTheTermsItWasMeasuredAgainst() {
        let timers = Self.fold([.opened(at: Self.monday, priority: .p1)], Self.slaB)
        let triage = timers.timers[.triage]!
        #expect(triage.breach(at: Self.at(30)) == nil, "not past the 30-minute deadline yet")
        #expect(
            triage.breach(at: Self.at(31))
                == SlaBreached(
                    incidentID: Self.incident, target: .triage, priority: .p1, sla: .b, deadline: Self.at(30), breachedAt: Self.at(31),
                    policyVersion: "2026-11"))
    }
}
