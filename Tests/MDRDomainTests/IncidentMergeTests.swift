import Foundation
import Testing

@testable import MDRDomain

/// Merging two incidents about one attack (issue 15): the SOC's command and the correlator's automatic merge share
/// `IncidentMerge`.
@Suite struct IncidentMergeTests {
    let at = Fixtures.t0(plusMinutes: 30)
    let by = Fixtures.analyst
    static let ws43 = DeviceID(rawValue: "ws-0043")!

    @Test func theIncidentThatRemainsTakesTheSignalsAndTheOtherClosesAsMergedIntoIt() throws {
        let survivor = Fixtures.openIncident(1)
        let absorbed = Fixtures.openIncident(2, devices: [Self.ws43])
        let events = try IncidentMerge.decide(absorbed, into: survivor, reason: "  one phishing campaign  ", by: by, at: at)
        #expect(events.map(\.stream) == [.incident(survivor.id), .incident(absorbed.id)], "the survivor's event first")
        let remaining = try #require(IncidentDecider.fold(events.filter { $0.stream == .incident(survivor.id) }, from: survivor))
        #expect(remaining.status == .open)
        #expect(remaining.signals == survivor.signals + absorbed.signals)
        #expect(remaining.devices == [Fixtures.ws42, Self.ws43])
        let merged = try #require(IncidentDecider.fold(events.filter { $0.stream == .incident(absorbed.id) }, from: absorbed))
        #expect(merged.status == .merged)
        #expect(merged.status.isClosed)
        #expect(merged.mergedInto == survivor.id)
        #expect(merged.closingNote == "one phishing campaign")
        #expect(merged.closedBy == by.id && merged.closedAt == at)
    }

    @Test func aCandidateMayMergeIntoAConfirmedIncidentButNotTheOtherWayRound() throws {
        let confirmed = Fixtures.confirmedIncident(1)
        let candidate = Fixtures.openIncident(2, devices: [Self.ws43])
        let events = try IncidentMerge.decide(candidate, into: confirmed, reason: "same attack", by: by, at: at)
        guard case .incidentAbsorbed(let absorbed)? = events.first else {
            Issue.record("\(events)")
            return
        }
        #expect(absorbed.candidatePriority == nil, "a confirmed incident keeps the analyst's priority")
        expectRefusal(.mergeIntoCandidate, .conflict) { () throws(DomainError) in
            try IncidentMerge.decide(confirmed, into: candidate, reason: "same attack", by: by, at: at)
        }
    }

    @Test func closedIncidentsTheSameIncidentTwiceAndAMissingReasonAreRefused() throws {
        let open = Fixtures.openIncident(1)
        let other = Fixtures.openIncident(2, devices: [Self.ws43])
        expectRefusal(.mergeIntoItself, .invalid) { () throws(DomainError) in
            try IncidentMerge.decide(open, into: open, reason: "x", by: by, at: at)
        }
        expectRefusal(.incidentNotFound, .notFound) { () throws(DomainError) in
            try IncidentMerge.decide(open, into: nil, reason: "x", by: by, at: at)
        }
        expectRefusal(.reasonMissing, .invalid) { () throws(DomainError) in
            try IncidentMerge.decide(other, into: open, reason: "  ", by: by, at: at)
        }
        expectRefusal(.incidentDismissed, .conflict) { () throws(DomainError) in
            try IncidentMerge.decide(Fixtures.dismissedIncident(3), into: open, reason: "x", by: by, at: at)
        }
        let merged = IncidentDecider.fold(try IncidentMerge.decide(other, into: open, reason: "x", by: by, at: at), from: other)
        expectRefusal(.incidentMerged, .conflict) { () throws(DomainError) in
            try IncidentMerge.decide(Fixtures.openIncident(4), into: merged, reason: "x", by: by, at: at)
        }
        // A merged incident takes no triage either, and justifies no isolation.
        expectRefusal(.incidentMerged, .conflict) { () throws(DomainError) in
            try IncidentDecider.decide(.confirm(priority: .p1, summary: "x", by: by, at: at), merged)
        }
    }

    @Test func mergingStopsEveryRunningTimerAsMergedAndComplianceLeavesThemOut() {
        let monday = Fixtures.time("2026-11-30T10:00:00+01:00")
        let incident = Fixtures.incidentID(2)
        func at(_ minutes: Double) -> Date { monday.addingTimeInterval(minutes * 60) }
        let inTime = IncidentSlaTimers.fold(incident, [.opened(at: monday, priority: .p2), .merged(at: at(5))], terms: SlaTerms(sla: .a))
        #expect(inTime.timers[.triage]?.stoppedBy == .merged)
        // Merged after the triage deadline (P2: 30 min in SLA A): the breach stands.
        let late = IncidentSlaTimers.fold(
            Fixtures.incidentID(3), [.opened(at: monday, priority: .p2), .merged(at: at(300))], terms: SlaTerms(sla: .a))
        #expect(late.timers[.triage]?.status(at: at(400)) == .breached)
        let report = SlaCompliance.report(inTime.sorted + late.sorted, at: at(400))
        #expect(report.perTarget[.triage]?.decided == 1)
        #expect(report.perTarget[.triage]?.breached == 1)
        #expect(report.perTarget[.triage]?.met == 0, "a merge is no acknowledgement")
        #expect(report.mttaSeconds == nil, "nor does it count in the mean time to acknowledge")
    }

    @Test func theMergeEventsMapToSlaFacts() {
        let events = IncidentMerge.events(
            absorbed: Fixtures.incidentID(2), into: Fixtures.incidentID(1), signals: [], entities: SignalEntities(), sources: [], severity: .high,
            candidatePriority: .p2, reason: "x", by: "soc:anna", at: at)
        #expect(events.compactMap(SlaFact.from).map(\.incidentID) == [Fixtures.incidentID(1), Fixtures.incidentID(2)])
        #expect(events.compactMap(SlaFact.from).map(\.fact) == [.priorityChanged(to: .p2, at: at), .merged(at: at)])
    }
}
