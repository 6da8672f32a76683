import Foundation
import Testing

@testable import MDRDomain

/// Triage by the SOC (DOMAIN.md, "Confirm incident"): confirm, dismiss, resolve, and what refuses them.
@Suite struct IncidentDeciderTests {
    let at = Fixtures.t0(plusMinutes: 20)
    let by = Fixtures.analyst

    // MARK: Confirm

    @Test func confirmingAnOpenIncidentRecordsPrioritySummaryAnalystAndTime() throws {
        let open = Fixtures.openIncident()
        let events = try IncidentDecider.decide(.confirm(priority: .p2, summary: "  Credential theft via phishing  ", by: by, at: at), open)
        #expect(events == [
            .incidentConfirmed(
                IncidentConfirmed(
                    incidentID: open.id, priority: .p2, summary: "Credential theft via phishing", confirmedBy: by.id, confirmedAt: at))
        ])
        let confirmed = IncidentDecider.fold(events, from: open)
        #expect(confirmed?.status == .confirmed)
        #expect(confirmed?.priority == .p2)
        #expect(confirmed?.confirmedAt == at)
        #expect(confirmed?.confirmedBy == by.id)
        #expect(events.map(\.stream) == [.incident(open.id)])
    }

    @Test func confirmingAnUnknownIncidentIsRefused() {
        expectRefusal(.incidentNotFound, .notFound) { () throws(DomainError) in
            try IncidentDecider.decide(.confirm(priority: .p1, summary: "x", by: by, at: at), nil)
        }
    }

    @Test func confirmingAnAlreadyConfirmedIncidentIsRefused() {
        let confirmed = Fixtures.confirmedIncident()
        expectRefusal(.incidentAlreadyConfirmed, .conflict) { () throws(DomainError) in
            try IncidentDecider.decide(.confirm(priority: .p2, summary: "again", by: by, at: at), confirmed)
        }
    }

    @Test func confirmingADismissedIncidentIsRefused() {
        let dismissed = Fixtures.dismissedIncident()
        expectRefusal(.incidentDismissed, .conflict) { () throws(DomainError) in
            try IncidentDecider.decide(.confirm(priority: .p1, summary: "it was real after all", by: by, at: at), dismissed)
        }
    }

    @Test func confirmingAResolvedIncidentIsRefused() {
        let resolved = Fixtures.resolvedIncident()
        expectRefusal(.incidentResolved, .conflict) { () throws(DomainError) in
            try IncidentDecider.decide(.confirm(priority: .p1, summary: "again", by: by, at: at), resolved)
        }
    }

    @Test(arguments: ["", "   ", "\n\t"])
    func confirmingWithoutASummaryIsRefused(summary: String) {
        expectRefusal(.summaryMissing, .invalid) { () throws(DomainError) in
            try IncidentDecider.decide(.confirm(priority: .p1, summary: summary, by: by, at: at), Fixtures.openIncident())
        }
    }

    @Test func confirmingWithASummaryOver4000CharactersIsRefused() {
        let long = String(repeating: "a", count: 4001)
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in
            try IncidentDecider.decide(.confirm(priority: .p1, summary: long, by: by, at: at), Fixtures.openIncident())
        }
    }

    // MARK: Dismiss

    @Test func dismissingAnOpenIncidentRecordsTheClassificationAndClosesIt() throws {
        let open = Fixtures.openIncident()
        let events = try IncidentDecider.decide(.dismiss(classification: .benignPositive, reason: "IT admin's script", by: by, at: at), open)
        #expect(events == [
            .incidentDismissed(
                IncidentDismissed(
                    incidentID: open.id, classification: .benignPositive, reason: "IT admin's script", dismissedBy: by.id, dismissedAt: at))
        ])
        let dismissed = IncidentDecider.fold(events, from: open)
        #expect(dismissed?.status == .dismissed)
        #expect(dismissed?.dismissal == .benignPositive)
        #expect(dismissed?.closedAt == at)
        #expect(dismissed?.closedBy == by.id)
        #expect(dismissed?.closingNote == "IT admin's script")
    }

    @Test func dismissingAnUnknownIncidentIsRefused() {
        expectRefusal(.incidentNotFound, .notFound) { () throws(DomainError) in
            try IncidentDecider.decide(.dismiss(classification: .falsePositive, reason: "x", by: by, at: at), nil)
        }
    }

    @Test func dismissingAConfirmedIncidentIsRefused() {
        let error = expectRefusal(.incidentAlreadyConfirmed, .conflict) { () throws(DomainError) in
            try IncidentDecider.decide(.dismiss(classification: .falsePositive, reason: "x", by: by, at: at), Fixtures.confirmedIncident())
        }
        #expect(error?.message.contains("resolve") == true, "the message says to resolve instead")
    }

    @Test func dismissingADismissedIncidentIsRefused() {
        expectRefusal(.incidentDismissed, .conflict) { () throws(DomainError) in
            try IncidentDecider.decide(.dismiss(classification: .duplicate, reason: "x", by: by, at: at), Fixtures.dismissedIncident())
        }
    }

    @Test func dismissingAResolvedIncidentIsRefused() {
        expectRefusal(.incidentResolved, .conflict) { () throws(DomainError) in
            try IncidentDecider.decide(.dismiss(classification: .duplicate, reason: "x", by: by, at: at), Fixtures.resolvedIncident())
        }
    }

    @Test func dismissingWithoutAReasonIsRefused() {
        expectRefusal(.reasonMissing, .invalid) { () throws(DomainError) in
            try IncidentDecider.decide(.dismiss(classification: .falsePositive, reason: " ", by: by, at: at), Fixtures.openIncident())
        }
    }

    // MARK: Resolve

    @Test func resolvingAConfirmedIncidentRecordsWhatWasDone() throws {
        let confirmed = Fixtures.confirmedIncident()
        let events = try IncidentDecider.decide(.resolve(resolution: "reimaged ws-0042", by: by, at: at), confirmed)
        #expect(events == [
            .incidentResolved(IncidentResolved(incidentID: confirmed.id, resolution: "reimaged ws-0042", resolvedBy: by.id, resolvedAt: at))
        ])
        let resolved = IncidentDecider.fold(events, from: confirmed)
        #expect(resolved?.status == .resolved)
        #expect(resolved?.priority == .p1, "resolving keeps the priority it was confirmed with")
        #expect(resolved?.closedAt == at)
        #expect(resolved?.closingNote == "reimaged ws-0042")
    }

    @Test func resolvingAnUnknownIncidentIsRefused() {
        expectRefusal(.incidentNotFound, .notFound) { () throws(DomainError) in
            try IncidentDecider.decide(.resolve(resolution: "x", by: by, at: at), nil)
        }
    }

    @Test func resolvingAnOpenIncidentIsRefusedUntilItIsConfirmed() {
        expectRefusal(.incidentNotConfirmed, .conflict) { () throws(DomainError) in
            try IncidentDecider.decide(.resolve(resolution: "x", by: by, at: at), Fixtures.openIncident())
        }
    }

    @Test func resolvingADismissedIncidentIsRefused() {
        expectRefusal(.incidentDismissed, .conflict) { () throws(DomainError) in
            try IncidentDecider.decide(.resolve(resolution: "x", by: by, at: at), Fixtures.dismissedIncident())
        }
    }

    @Test func resolvingAResolvedIncidentIsRefused() {
        expectRefusal(.incidentResolved, .conflict) { () throws(DomainError) in
            try IncidentDecider.decide(.resolve(resolution: "again", by: by, at: at), Fixtures.resolvedIncident())
        }
    }

    @Test func resolvingWithoutAResolutionIsRefused() {
        expectRefusal(.reasonMissing, .invalid) { () throws(DomainError) in
            try IncidentDecider.decide(.resolve(resolution: "", by: by, at: at), Fixtures.confirmedIncident())
        }
    }

    // MARK: Evolve

    @Test func attachedSignalsAddTheirDevicesOnceAndRaiseTheHighestSeverity() {
        let incident = IncidentDecider.fold([
            Fixtures.incidentOpened(1, devices: [Fixtures.ws42], severity: .medium),
            Fixtures.signalAttached(1, signal: 2, devices: [Fixtures.ws42, Fixtures.ws43], severity: .critical),
            Fixtures.signalAttached(1, signal: 3, devices: [Fixtures.ws43], severity: .low),
            Fixtures.signalAttached(1, signal: 3, devices: [Fixtures.ws43], severity: .low),
        ])
        #expect(incident?.status == .open)
        #expect(incident?.devices == [Fixtures.ws42, Fixtures.ws43])
        #expect(incident?.signals == [Fixtures.signalID(1), Fixtures.signalID(2), Fixtures.signalID(3)])
        #expect(incident?.highestSeverity == .critical)
        #expect(incident?.openedAt == Fixtures.t0)
        #expect(incident?.involves(Fixtures.ws43) == true)
        #expect(incident?.involves(Fixtures.srv01) == false)
    }

    @Test func onlyP1AndP2AreHighPriority() {
        #expect(Priority.allCases.filter(\.isHigh) == [.p1, .p2])
    }
}
