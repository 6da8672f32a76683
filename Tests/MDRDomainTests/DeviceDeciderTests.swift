import Foundation
import Testing

@testable import MDRDomain

/// Isolation and release (DOMAIN.md, "Isolate device" and "Release device").
@Suite struct DeviceDeciderTests {
    let at = Fixtures.t0(plusMinutes: 12)
    let by = Fixtures.analyst
    let device = Fixtures.ws42

    private func isolate(
        _ device: DeviceID = Fixtures.ws42, incident: Incident? = Fixtures.confirmedIncident(), tenant: Tenant? = Fixtures.tenant(),
        comment: String = "ransomware, P1", after history: [DomainEvent] = []
    ) throws(DomainError) -> [DomainEvent] {
        try DeviceDecider.decide(
            .isolate(deviceID: device, incident: incident, tenant: tenant, type: .full, comment: comment, by: by, at: at),
            Fixtures.device(after: history))
    }

    private func release(_ reason: String = "threat cleaned up", after history: [DomainEvent]) throws(DomainError) -> [DomainEvent] {
        try DeviceDecider.decide(.release(deviceID: device, reason: reason, by: by, at: at), Fixtures.device(after: history))
    }

    // MARK: Isolate

    @Test func isolationOfADeviceInAConfirmedIncidentWithConsentIsRequested() throws {
        let incident = Fixtures.confirmedIncident()
        let events = try isolate(incident: incident, comment: "  ransomware, P1 ")
        #expect(events == [
            .deviceIsolationRequested(
                DeviceIsolationRequested(
                    deviceID: device, incidentID: incident.id, isolationType: .full, comment: "ransomware, P1", requestedBy: by.id, requestedAt: at))
        ])
        #expect(events.map(\.stream) == [.device(device)])
    }

    @Test func aRequestedIsolationIsPendingUntilTheEdrReports() {
        let pending = Fixtures.device(after: [Fixtures.isolationRequested()])
        #expect(pending.device?.state == .pending)
        #expect(pending.device?.incidentID == Fixtures.incidentID(1))
        #expect(Fixtures.device(after: [Fixtures.isolationRequested(), Fixtures.isolated()]).device?.state == .isolated)
        #expect(Fixtures.device(after: [Fixtures.isolationRequested(), Fixtures.isolationFailed()]).device?.state == .failed)
    }

    @Test func isolationIsRefusedForAnUnknownTenant() {
        expectRefusal(.tenantNotFound, .notFound) { () throws(DomainError) in try isolate(tenant: nil) }
    }

    @Test func isolationIsRefusedWithoutAnIncident() {
        expectRefusal(.incidentNotFound, .notFound) { () throws(DomainError) in try isolate(incident: nil) }
    }

    @Test func isolationIsRefusedForAnIncidentNotYetConfirmed() {
        expectRefusal(.incidentNotConfirmed, .conflict) { () throws(DomainError) in try isolate(incident: Fixtures.openIncident()) }
    }

    @Test func isolationIsRefusedForADismissedIncident() {
        expectRefusal(.incidentDismissed, .conflict) { () throws(DomainError) in try isolate(incident: Fixtures.dismissedIncident()) }
    }

    @Test func isolationIsRefusedForAResolvedIncident() {
        expectRefusal(.incidentResolved, .conflict) { () throws(DomainError) in try isolate(incident: Fixtures.resolvedIncident()) }
    }

    @Test func isolationIsRefusedForADeviceTheIncidentDoesNotInvolve() {
        let incident = Fixtures.confirmedIncident(devices: [Fixtures.ws43])
        expectRefusal(.deviceNotInIncident, .conflict) { () throws(DomainError) in try isolate(Fixtures.ws42, incident: incident) }
    }

    @Test func isolationIsRefusedWithoutConsent() {
        let withdrawn = Fixtures.tenant(consentOnFile: false)
        expectRefusal(.consentMissing, .conflict) { () throws(DomainError) in try isolate(tenant: withdrawn) }
    }

    @Test func isolationIsRefusedForADeviceAlreadyIsolated() {
        expectRefusal(.deviceAlreadyIsolated, .conflict) { () throws(DomainError) in
            try isolate(after: [Fixtures.isolationRequested(), Fixtures.isolated()])
        }
    }

    @Test func isolationIsRefusedWhileTheDeviceIsBeingIsolated() {
        expectRefusal(.deviceIsolationPending, .conflict) { () throws(DomainError) in
            try isolate(after: [Fixtures.isolationRequested()])
        }
    }

    @Test func isolationIsRefusedWhileTheDeviceIsBeingReleased() {
        expectRefusal(.deviceReleasePending, .conflict) { () throws(DomainError) in
            try isolate(after: [Fixtures.isolationRequested(), Fixtures.isolated(), Fixtures.releaseRequested()])
        }
    }

    @Test(arguments: ["", "   ", String(repeating: "x", count: 1001)])
    func isolationIsRefusedWithoutAComment(comment: String) {
        expectRefusal(.reasonMissing, .invalid) { () throws(DomainError) in try isolate(comment: comment) }
    }

    @Test func isolationMayBeRequestedAgainAfterItFailed() throws {
        let events = try isolate(after: [Fixtures.isolationRequested(), Fixtures.isolationFailed()])
        #expect(events.count == 1)
    }

    @Test func isolationMayBeRequestedAgainAfterARelease() throws {
        let history = [Fixtures.isolationRequested(), Fixtures.isolated(), Fixtures.releaseRequested(), Fixtures.released()]
        let second = Fixtures.confirmedIncident(2)
        let events = try isolate(incident: second, after: history)
        guard case .deviceIsolationRequested(let e)? = events.first else {
            Issue.record("expected DeviceIsolationRequested, got \(events)")
            return
        }
        #expect(e.incidentID == second.id)
    }

    // MARK: Release

    @Test func releaseOfAnIsolatedDeviceRecordsWhoAndWhy() throws {
        let events = try release(" threat cleaned up ", after: [Fixtures.isolationRequested(), Fixtures.isolated()])
        #expect(events == [
            .deviceReleaseRequested(DeviceReleaseRequested(deviceID: device, reason: "threat cleaned up", requestedBy: by.id, requestedAt: at))
        ])
        let state = DeviceDecider.fold(events, from: Fixtures.device(after: [Fixtures.isolationRequested(), Fixtures.isolated()]))
        #expect(state.device?.state == .releasePending)
    }

    @Test func releaseOfADeviceWhoseIsolationIsStillPendingIsRequested() throws {
        // The brief and the decider allow cancelling a pending isolation; DOMAIN.md says "refused unless isolated".
        let events = try release(after: [Fixtures.isolationRequested()])
        #expect(events.count == 1)
    }

    @Test func releaseIsRefusedForADeviceNeverIsolated() {
        expectRefusal(.deviceNotIsolated, .conflict) { () throws(DomainError) in try release(after: []) }
    }

    @Test func releaseIsRefusedAfterIsolationFailed() {
        expectRefusal(.deviceNotIsolated, .conflict) { () throws(DomainError) in
            try release(after: [Fixtures.isolationRequested(), Fixtures.isolationFailed()])
        }
    }

    @Test func releaseIsRefusedForADeviceAlreadyReleased() {
        expectRefusal(.deviceNotIsolated, .conflict) { () throws(DomainError) in
            try release(after: [Fixtures.isolationRequested(), Fixtures.isolated(), Fixtures.releaseRequested(), Fixtures.released()])
        }
    }

    @Test func releaseIsRefusedWhileTheDeviceIsBeingReleased() {
        expectRefusal(.deviceReleasePending, .conflict) { () throws(DomainError) in
            try release(after: [Fixtures.isolationRequested(), Fixtures.isolated(), Fixtures.releaseRequested()])
        }
    }

    @Test(arguments: ["", "  ", String(repeating: "x", count: 1001)])
    func releaseIsRefusedWithoutAReason(reason: String) {
        expectRefusal(.reasonMissing, .invalid) { () throws(DomainError) in
            try release(reason, after: [Fixtures.isolationRequested(), Fixtures.isolated()])
        }
    }

    // MARK: History

    @Test func theIsolationHistoryRecordsWhoDidWhatWhenAndForWhichIncident() {
        let state = Fixtures.device(after: [
            Fixtures.isolationRequested(), Fixtures.isolated(), Fixtures.releaseRequested(), Fixtures.released(),
        ])
        let history = state.device?.history ?? []
        #expect(history.map(\.state) == [.pending, .isolated, .releasePending, .released])
        #expect(history.map(\.by) == [by.id, "edr", by.id, "edr"])
        #expect(history.allSatisfy { $0.incidentID == Fixtures.incidentID(1) })
        #expect(history.map(\.note) == ["ransomware, P1", nil, "threat cleaned up", nil])
        #expect(history.map(\.at) == [12, 13, 60, 61].map { Fixtures.t0(plusMinutes: $0) })
        #expect(state.device?.state == .released)
    }

    @Test func eventsOfOtherAggregatesLeaveTheDeviceUnchanged() {
        let state = Fixtures.device(after: [Fixtures.isolationRequested()])
        #expect(DeviceDecider.evolve(state, Fixtures.incidentOpened()) == state)
        #expect(DeviceDecider.evolve(DeviceDecider.initialState, Fixtures.incidentOpened()) == DeviceDecider.initialState)
    }
}
