import Foundation
import Testing

@testable import MDRDomain

/// One alert's history (DOMAIN.md, "Ingest signal(s)"): accepted, duplicate, updated.
@Suite struct SignalTests {
    let firstArrival = Fixtures.t0
    let laterArrival = Fixtures.t0(plusMinutes: 5)

    /// The state after the alert's first arrival.
    private var seenOnce: SignalDecider.State {
        SignalDecider.fold([.signalIngested(SignalIngested(signalID: Fixtures.signalID(1), signal: Fixtures.signal(), receivedAt: firstArrival))])
    }

    private func arrive(_ signal: Signal, _ state: SignalDecider.State) throws(DomainError) -> [DomainEvent] {
        try SignalDecider.decide(SignalDecider.Command(signal: signal, newID: Fixtures.signalID(99), receivedAt: laterArrival), state)
    }

    @Test func aNewAlertIsAcceptedWithTheGivenIdAndArrivalTime() throws {
        let signal = Fixtures.signal()
        let command = SignalDecider.Command(signal: signal, newID: Fixtures.signalID(1), receivedAt: firstArrival)
        let events = try SignalDecider.decide(command, SignalDecider.initialState)
        #expect(events == [.signalIngested(SignalIngested(signalID: Fixtures.signalID(1), signal: signal, receivedAt: firstArrival))])
        #expect(SignalDecider.outcome(of: events) == .accepted)
        #expect(events.map(\.stream) == [StreamName(rawValue: "signal:endpoint:da-0001")])
    }

    @Test func sameAlertWithSameStatusAndSeverityIsADuplicateAndAppendsNothing() throws {
        let events = try arrive(Fixtures.signal(), seenOnce)
        #expect(events.isEmpty)
        #expect(SignalDecider.outcome(of: events) == .duplicate)
    }

    @Test func sameAlertWithOnlyADifferentTitleOrTimeIsStillADuplicate() throws {
        var again = Fixtures.signal(observedAt: Fixtures.t0(plusMinutes: 1))
        again.title = "Ransomware behaviour detected (updated)"
        #expect(try arrive(again, seenOnce).isEmpty)
    }

    @Test func sameAlertWithANewStatusIsAnUpdateOfTheStoredSignal() throws {
        let events = try arrive(Fixtures.signal(status: .inProgress), seenOnce)
        #expect(events == [
            .signalUpdated(SignalUpdated(signalID: Fixtures.signalID(1), source: .endpoint, sourceAlertID: "da-0001", status: .inProgress, severity: .high, receivedAt: laterArrival))
        ])
        #expect(SignalDecider.outcome(of: events) == .updated)
    }

    @Test func sameAlertWithANewSeverityIsAnUpdateOfTheStoredSignal() throws {
        let events = try arrive(Fixtures.signal(severity: .critical), seenOnce)
        #expect(events == [
            .signalUpdated(SignalUpdated(signalID: Fixtures.signalID(1), source: .endpoint, sourceAlertID: "da-0001", status: .new, severity: .critical, receivedAt: laterArrival))
        ])
    }

    @Test func anUpdateIsFoldedSoTheSameUpdateAgainIsADuplicate() throws {
        let updated = try arrive(Fixtures.signal(status: .resolved), seenOnce)
        let state = SignalDecider.fold(updated, from: seenOnce)
        #expect(state.signalID == Fixtures.signalID(1), "the alert keeps the id it was first stored with")
        #expect(state.current?.status == .resolved)
        #expect(try arrive(Fixtures.signal(status: .resolved), state).isEmpty)
    }

    @Test func eventsOfOtherStreamsLeaveTheSignalUnchanged() {
        #expect(SignalDecider.evolve(seenOnce, Fixtures.incidentOpened()) == seenOnce)
    }

    @Test func severitiesAreOrderedFromInformationalToCritical() {
        #expect(Severity.allCases.sorted() == [.informational, .low, .unknown, .medium, .high, .critical])
        #expect(Severity.informational < .low)
        #expect(Severity.high < .critical)
        #expect(Severity.allCases.max() == .critical)
    }

    @Test func anAlertsStreamIsNamedAfterItsSourceAndAlertId() {
        #expect(Fixtures.signal(alert: "abc-1", source: .microsoft365).stream.rawValue == "signal:microsoft365:abc-1")
        #expect(StreamName.device(Fixtures.ws42).rawValue == "device:ws-0042")
        #expect(StreamName.incident(Fixtures.incidentID(1)).rawValue == "incident:00000000-0000-0000-0000-000000001001")
        #expect(StreamName.tenant.rawValue == "tenant")
    }

    @Test func entitiesDecodeWithMissingListsAsEmpty() throws {
        let entities = try JSONCoding.decoder().decode(SignalEntities.self, from: Data(#"{"devices": ["ws-0042"]}"#.utf8))
        #expect(entities == SignalEntities(devices: [Fixtures.ws42]))
        #expect(SignalEntities().isEmpty)
        #expect(!entities.isEmpty)
    }
}
