import Foundation
import Testing

@testable import MDRDomain

/// The foundation's correlation rule (DOMAIN.md, "Detection", "Correlation"): a signal about a device opens an
/// incident candidate or joins the device's open one; a closed incident is not silently reopened.
@Suite struct DeviceIncidentRuleTests {
    /// A tenant's log as the process manager keeps it: the rule decides on each ingested signal, its events are
    /// appended and folded before the next signal, and triage events close incidents.
    struct Log {
        var state = DeviceIncidentRule.State()
        var events: [DomainEvent] = []

        /// Ingests signal number `n`; the incident it would open is named after it.
        @discardableResult
        mutating func ingest(_ n: Int, severity: Severity = .high, devices: [DeviceID] = [Fixtures.ws42]) -> [DomainEvent] {
            let signal = Fixtures.ingested(n, severity: severity, devices: devices)
            append(.signalIngested(signal))
            let decided = DeviceIncidentRule.decide(signal, state, newIncidentID: Fixtures.incidentID(n))
            decided.forEach { append($0) }
            return decided
        }

        mutating func append(_ event: DomainEvent) {
            events.append(event)
            state = DeviceIncidentRule.evolve(state, event)
        }

        /// The incident as its own stream makes it.
        func incident(_ n: Int) -> Incident? {
            IncidentDecider.fold(events.filter { event in
                if case .signalIngested = event { return false }
                return event.stream == .incident(Fixtures.incidentID(n))
            })
        }

        mutating func triage(_ n: Int, _ command: IncidentDecider.Command) throws {
            try IncidentDecider.decide(command, incident(n)).forEach { append($0) }
        }
        mutating func confirm(_ n: Int) throws {
            try triage(n, .confirm(priority: .p1, summary: "Ransomware", by: Fixtures.analyst, at: Fixtures.t0(plusMinutes: 30)))
        }
        mutating func resolve(_ n: Int) throws {
            try triage(n, .resolve(resolution: "reimaged", by: Fixtures.analyst, at: Fixtures.t0(plusMinutes: 60)))
        }
        mutating func dismiss(_ n: Int) throws {
            try triage(n, .dismiss(classification: .falsePositive, reason: "test machine", by: Fixtures.analyst, at: Fixtures.t0(plusMinutes: 30)))
        }
    }

    private func opened(_ events: [DomainEvent]) -> [IncidentOpened] {
        events.compactMap { if case .incidentOpened(let e) = $0 { e } else { nil } }
    }
    private func attached(_ events: [DomainEvent]) -> [SignalAttached] {
        events.compactMap { if case .signalAttached(let e) = $0 { e } else { nil } }
    }

    @Test func aSignalAboutADeviceWithoutAnOpenIncidentOpensOne() {
        var log = Log()
        let events = log.ingest(1, severity: .medium)
        #expect(events == [
            .incidentOpened(
                IncidentOpened(
                    incidentID: Fixtures.incidentID(1), devices: [Fixtures.ws42], signalID: Fixtures.signalID(1), severity: .medium,
                    openedAt: Fixtures.t0(plusMinutes: 1)))
        ])
        #expect(log.state.openIncidentByDevice == [Fixtures.ws42: Fixtures.incidentID(1)])
    }

    @Test func twoSignalsAboutTheSameDeviceMakeOneIncident() {
        var log = Log()
        log.ingest(1, severity: .medium)
        let second = log.ingest(2, severity: .critical)
        #expect(second == [Fixtures.signalAttached(1, signal: 2, devices: [Fixtures.ws42], severity: .critical)])
        #expect(opened(log.events).count == 1)
        let incident = log.incident(1)
        #expect(incident?.signals == [Fixtures.signalID(1), Fixtures.signalID(2)])
        #expect(incident?.highestSeverity == .critical)
    }

    @Test func aConfirmedIncidentStillCollectsSignalsAboutItsDevice() throws {
        var log = Log()
        log.ingest(1)
        try log.confirm(1)
        let events = log.ingest(2)
        #expect(attached(events).map(\.incidentID) == [Fixtures.incidentID(1)])
        #expect(log.incident(1)?.status == .confirmed)
    }

    @Test func afterTheIncidentIsResolvedANewSignalOpensANewIncident() throws {
        var log = Log()
        log.ingest(1)
        try log.confirm(1)
        try log.resolve(1)
        let events = log.ingest(2)
        #expect(opened(events).map(\.incidentID) == [Fixtures.incidentID(2)])
        #expect(attached(events).isEmpty, "the resolved incident is not reopened")
        #expect(log.incident(1)?.status == .resolved)
        #expect(log.incident(1)?.signals == [Fixtures.signalID(1)])
        #expect(log.state.openIncidentByDevice[Fixtures.ws42] == Fixtures.incidentID(2))
    }

    @Test func afterTheIncidentIsDismissedANewSignalOpensANewIncident() throws {
        var log = Log()
        log.ingest(1)
        try log.dismiss(1)
        let events = log.ingest(2)
        #expect(opened(events).map(\.incidentID) == [Fixtures.incidentID(2)])
        #expect(log.incident(1)?.status == .dismissed)
        #expect(log.state.devicesByIncident[Fixtures.incidentID(1)] == nil, "a closed incident is forgotten by the rule")
    }

    @Test func aSignalNamingTwoDevicesWhereOneHasAnOpenIncidentJoinsItWithBoth() {
        var log = Log()
        log.ingest(1, devices: [Fixtures.ws42])
        let events = log.ingest(2, devices: [Fixtures.ws43, Fixtures.ws42])
        #expect(events == [Fixtures.signalAttached(1, signal: 2, devices: [Fixtures.ws43, Fixtures.ws42], severity: .high)])
        #expect(log.incident(1)?.devices == [Fixtures.ws42, Fixtures.ws43])
        // The device brought in now has that incident as its open one.
        let third = log.ingest(3, devices: [Fixtures.ws43])
        #expect(attached(third).map(\.incidentID) == [Fixtures.incidentID(1)])
        #expect(opened(log.events).count == 1)
    }

    @Test func aDeviceBroughtIntoAnIncidentIsFreedWhenThatIncidentCloses() throws {
        var log = Log()
        log.ingest(1, devices: [Fixtures.ws42])
        log.ingest(2, devices: [Fixtures.ws42, Fixtures.ws43])
        try log.dismiss(1)
        #expect(log.state.openIncidentByDevice.isEmpty)
        let events = log.ingest(3, devices: [Fixtures.ws43])
        #expect(opened(events).map(\.devices) == [[Fixtures.ws43]])
    }

    @Test func aSignalNamingTwoDevicesWithTheirOwnOpenIncidentsJoinsEach() {
        var log = Log()
        log.ingest(1, devices: [Fixtures.ws42])
        log.ingest(2, devices: [Fixtures.ws43])
        let events = log.ingest(3, devices: [Fixtures.ws42, Fixtures.ws43, Fixtures.srv01])
        #expect(attached(events).map(\.incidentID) == [Fixtures.incidentID(1), Fixtures.incidentID(2)])
        #expect(attached(events).map(\.devices) == [[Fixtures.ws42, Fixtures.srv01], [Fixtures.ws43]],
            "a device without an incident joins the first incident the signal touches")
        #expect(opened(events).isEmpty)
    }

    @Test func aSignalNamingTwoDevicesWithoutIncidentsOpensOneIncidentForBoth() {
        var log = Log()
        let events = log.ingest(1, devices: [Fixtures.ws42, Fixtures.ws43])
        #expect(opened(events).map(\.devices) == [[Fixtures.ws42, Fixtures.ws43]])
        #expect(log.state.openIncidentByDevice == [Fixtures.ws42: Fixtures.incidentID(1), Fixtures.ws43: Fixtures.incidentID(1)])
    }

    @Test func aSignalAboutAnotherDeviceOpensItsOwnIncident() {
        var log = Log()
        log.ingest(1, devices: [Fixtures.ws42])
        let events = log.ingest(2, devices: [Fixtures.ws43])
        #expect(opened(events).map(\.incidentID) == [Fixtures.incidentID(2)])
    }

    @Test func informationalSignalsMakeNoIncident() {
        var log = Log()
        #expect(log.ingest(1, severity: .informational).isEmpty)
        #expect(log.state == DeviceIncidentRule.State())
    }

    @Test func suppressedSignalsMakeNoIncidentAndJoinNone() {
        var suppressed = Fixtures.ingested(1)
        suppressed.suppressedBy = UUID(uuidString: "00000000-0000-0000-0000-00000000000a")!
        #expect(DeviceIncidentRule.decide(suppressed, DeviceIncidentRule.State(), newIncidentID: Fixtures.incidentID(1)).isEmpty)
        var log = Log()
        log.ingest(2)
        var later = Fixtures.ingested(3)
        later.suppressedBy = suppressed.suppressedBy
        #expect(DeviceIncidentRule.decide(later, log.state, newIncidentID: Fixtures.incidentID(3)).isEmpty)
    }

    @Test func informationalSignalsDoNotJoinAnOpenIncident() {
        var log = Log()
        log.ingest(1)
        #expect(log.ingest(2, severity: .informational).isEmpty)
        #expect(log.incident(1)?.signals == [Fixtures.signalID(1)])
    }

    @Test func signalsWithoutADeviceMakeNoIncident() {
        var log = Log()
        #expect(log.ingest(1, severity: .critical, devices: []).isEmpty)
    }

    @Test func theSameLogGivesTheSameIncidents() throws {
        func run() throws -> [DomainEvent] {
            var log = Log()
            log.ingest(1)
            log.ingest(2, devices: [Fixtures.ws42, Fixtures.ws43])
            try log.confirm(1)
            try log.resolve(1)
            log.ingest(3, devices: [Fixtures.ws43])
            return log.events
        }
        let first = try run()
        #expect(try run() == first)
        // Replaying the stored log rebuilds the rule's state.
        var log = Log()
        first.forEach { log.append($0) }
        #expect(log.state.openIncidentByDevice == [Fixtures.ws43: Fixtures.incidentID(3)])
    }
}
