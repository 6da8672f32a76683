import Foundation
import Testing

@testable import MDRDomain

@Suite("SLA facts from domain events")
struct SlaFactTests {
    static let incident = Fixtures.incidentID(1)
    static let t = Fixtures.time("2026-11-30T10:00:00+01:00")

    @Test func incidentEventsMapToTheFactsThatMoveTimers() {
        let opened = DomainEvent.incidentOpened(
            IncidentOpened(
                incidentID: Self.incident, signalID: Fixtures.signalID(1), severity: .high, openedAt: Self.t, priority: .p2, source: .endpoint,
                observedAt: Self.t.addingTimeInterval(-5), entities: SignalEntities(devices: [Fixtures.ws42])))
        #expect(SlaFact.from(opened)?.incidentID == Self.incident)
        #expect(SlaFact.from(opened)?.fact == .opened(at: Self.t, priority: .p2))

        let raised = DomainEvent.incidentPriorityRaised(
            IncidentPriorityRaised(incidentID: Self.incident, from: .p2, to: .p1, reasons: ["signals from 3 sources"], raisedAt: Self.t))
        #expect(SlaFact.from(raised)?.fact == .priorityChanged(to: .p1, at: Self.t))

        let confirmed = DomainEvent.incidentConfirmed(
            IncidentConfirmed(incidentID: Self.incident, priority: .p1, summary: "Ransomware", confirmedBy: "soc:anna", confirmedAt: Self.t))
        #expect(SlaFact.from(confirmed)?.fact == .confirmed(priority: .p1, at: Self.t))

        let dismissed = DomainEvent.incidentDismissed(
            IncidentDismissed(incidentID: Self.incident, classification: .falsePositive, reason: "test", dismissedBy: "soc:anna", dismissedAt: Self.t))
        #expect(SlaFact.from(dismissed)?.fact == .dismissed(at: Self.t))

        let resolved = DomainEvent.incidentResolved(
            IncidentResolved(incidentID: Self.incident, resolution: "reimaged", resolvedBy: "soc:anna", resolvedAt: Self.t))
        #expect(SlaFact.from(resolved)?.fact == .resolved(at: Self.t))
    }

    @Test func anIsolationContainsTheIncidentItWasRequestedFor() {
        let isolated = DomainEvent.deviceIsolated(
            DeviceIsolated(deviceID: Fixtures.ws42, incidentID: Fixtures.incidentID(7), isolatedAt: Self.t, edrActionID: "a-1"))
        #expect(SlaFact.from(isolated)?.incidentID == Fixtures.incidentID(7))
        #expect(SlaFact.from(isolated)?.fact == .contained(at: Self.t))
    }

    @Test func aFileStoppedAndQuarantinedContainsTheIncidentToo() {
        let quarantined = DomainEvent.fileQuarantined(
            FileQuarantined(
                deviceID: Fixtures.ws42, incidentID: Fixtures.incidentID(7), sha1: "87662bc3d60e4200ceaf7aae249d1c343f4b83c9", quarantinedAt: Self.t,
                edrActionID: "a-3"))
        #expect(SlaFact.from(quarantined)?.incidentID == Fixtures.incidentID(7))
        #expect(SlaFact.from(quarantined)?.fact == .contained(at: Self.t))
    }

    @Test func onlyADeliveryOfTheConfirmationToDynamicStopsTheNotifyTimer() {
        let route = NotificationRouteRecord(recipient: .dynamic, channel: .webhook, address: "https://soc.dynamic.example/hook")
        func delivered(_ type: String, _ recipient: NotificationRecipient) -> DomainEvent {
            var route = route
            route.recipient = recipient
            return .notificationDelivered(
                NotificationDelivered(
                    notificationID: "ntf_1", about: NotificationAbout(type: type, incidentID: Self.incident, priority: .p1), route: route, attempt: 1,
                    deliveredAt: Self.t))
        }
        #expect(SlaFact.from(delivered("incident.confirmed", .dynamic))?.fact == .dynamicNotified(at: Self.t))
        #expect(SlaFact.from(delivered("incident.confirmed", .customerAfterHours)) == nil)
        #expect(SlaFact.from(delivered("sla.breached", .dynamic)) == nil)
        #expect(SlaFact.from(delivered("notification.failed", .dynamic)) == nil)
    }

    @Test func eventsThatMoveNoTimerMapToNothing() {
        #expect(SlaFact.from(Fixtures.isolationRequested()) == nil, "requested is not contained: the EDR has not reported back")
        #expect(SlaFact.from(Fixtures.isolationFailed()) == nil)
        #expect(SlaFact.from(Fixtures.released()) == nil)
        #expect(SlaFact.from(.signalIngested(Fixtures.ingested(1))) == nil)
        let breach = DomainEvent.slaBreached(
            SlaBreached(incidentID: Self.incident, target: .triage, priority: .p1, sla: .a, deadline: Self.t, breachedAt: Self.t, policyVersion: "2026-11"))
        #expect(SlaFact.from(breach) == nil)
    }

    @Test func foldingMappedEventsGivesTheTimersOfAnIncident() {
        let events: [DomainEvent] = [
            .incidentOpened(
                IncidentOpened(
                    incidentID: Self.incident, signalID: Fixtures.signalID(1), severity: .critical, openedAt: Self.t, priority: .p1,
                    source: .endpoint, observedAt: Self.t, entities: SignalEntities(devices: [Fixtures.ws42]))),
            .incidentConfirmed(
                IncidentConfirmed(
                    incidentID: Self.incident, priority: .p1, summary: "Ransomware", confirmedBy: "soc:anna",
                    confirmedAt: Self.t.addingTimeInterval(600))),
            .deviceIsolated(
                DeviceIsolated(deviceID: Fixtures.ws42, incidentID: Self.incident, isolatedAt: Self.t.addingTimeInterval(1800), edrActionID: nil)),
        ]
        let facts = events.compactMap(SlaFact.from).filter { $0.incidentID == Self.incident }.map(\.fact)
        let timers = IncidentSlaTimers.fold(Self.incident, facts, terms: SlaTerms(sla: .a))
        let now = Self.t.addingTimeInterval(3 * 3600)
        #expect(timers.sorted.map { $0.status(at: now) } == [.met, .breached, .met])
    }
}
