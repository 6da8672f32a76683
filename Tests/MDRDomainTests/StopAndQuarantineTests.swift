import Foundation
import Testing

@testable import MDRDomain

/// Stop and quarantine a file (the ransomware case), and the EDR outcomes the responder appends.
@Suite struct StopAndQuarantineTests {
    let at = Fixtures.t0(plusMinutes: 12)
    let by = Fixtures.analyst
    let device = Fixtures.ws42
    let sha1 = "87662BC3D60E4200CEAF7AAE249D1C343F4B83C9"

    private func quarantine(
        _ device: DeviceID = Fixtures.ws42, incident: Incident? = Fixtures.confirmedIncident(), tenant: Tenant? = Fixtures.tenant(),
        sha1: String? = nil, comment: String = "ransomware binary", after history: [DomainEvent] = []
    ) throws(DomainError) -> [DomainEvent] {
        try DeviceDecider.decide(
            .stopAndQuarantineFile(
                deviceID: device, incident: incident, tenant: tenant, sha1: sha1 ?? self.sha1, comment: comment, by: by, at: at),
            Fixtures.device(after: history))
    }

    @Test func stopAndQuarantineOfAFileInAConfirmedIncidentWithConsentIsRequested() throws {
        let events = try quarantine(comment: "  ransomware binary ")
        #expect(events == [
            .fileQuarantineRequested(
                FileQuarantineRequested(
                    deviceID: device, incidentID: Fixtures.incidentID(1), sha1: sha1.lowercased(), comment: "ransomware binary",
                    requestedBy: by.id, requestedAt: at))
        ])
        #expect(events.map(\.stream) == [.device(device)])
    }

    @Test func stopAndQuarantineIsAllowedWhileTheDeviceIsIsolated() throws {
        #expect(try quarantine(after: [Fixtures.isolationRequested(), Fixtures.isolated()]).count == 1)
    }

    @Test func stopAndQuarantineIsRefusedWithoutConsent() {
        expectRefusal(.consentMissing, .conflict) { () throws(DomainError) in try quarantine(tenant: Fixtures.tenant(consentOnFile: false)) }
    }

    @Test func stopAndQuarantineIsRefusedForAnUnknownTenant() {
        expectRefusal(.tenantNotFound, .notFound) { () throws(DomainError) in try quarantine(tenant: nil) }
    }

    @Test func stopAndQuarantineIsRefusedWithoutAnIncident() {
        expectRefusal(.incidentNotFound, .notFound) { () throws(DomainError) in try quarantine(incident: nil) }
    }

    @Test func stopAndQuarantineIsRefusedForAnIncidentNotYetConfirmed() {
        expectRefusal(.incidentNotConfirmed, .conflict) { () throws(DomainError) in try quarantine(incident: Fixtures.openIncident()) }
    }

    @Test func stopAndQuarantineIsRefusedForAResolvedIncident() {
        expectRefusal(.incidentResolved, .conflict) { () throws(DomainError) in try quarantine(incident: Fixtures.resolvedIncident()) }
    }

    @Test func stopAndQuarantineIsRefusedForADeviceNotInTheIncident() {
        expectRefusal(.deviceNotInIncident, .conflict) { () throws(DomainError) in try quarantine(Fixtures.srv01) }
    }

    @Test(arguments: ["", "abc", String(repeating: "g", count: 40), String(repeating: "a", count: 64), String(repeating: "a", count: 39)])
    func stopAndQuarantineIsRefusedForAHashThatIsNotASha1(hash: String) {
        expectRefusal(.invalidSHA1, .invalid) { () throws(DomainError) in try quarantine(sha1: hash) }
    }

    @Test func stopAndQuarantineIsRefusedWithoutAComment() {
        expectRefusal(.reasonMissing, .invalid) { () throws(DomainError) in try quarantine(comment: "   ") }
    }

    // MARK: EDR outcomes

    @Test func aFailedReleaseLeavesTheDeviceIsolatedAndReleasableAgain() throws {
        let history: [DomainEvent] = [
            Fixtures.isolationRequested(), Fixtures.isolated(), Fixtures.releaseRequested(),
            .deviceReleaseFailed(DeviceReleaseFailed(deviceID: device, reason: "Defender reported the action Failed", failedAt: at, edrActionID: "a")),
        ]
        #expect(Fixtures.device(after: history).device?.state == .isolated)
        let events = try DeviceDecider.decide(.release(deviceID: device, reason: "again", by: by, at: at), Fixtures.device(after: history))
        #expect(events.count == 1)
    }

    @Test func aReleaseRequestedWhileIsolationIsPendingStaysPendingWhenTheIsolationSucceeds() {
        let state = Fixtures.device(after: [Fixtures.isolationRequested(), Fixtures.releaseRequested(), Fixtures.isolated()])
        #expect(state.device?.state == .releasePending)
    }

    @Test func anEdrActionSubmittedDoesNotChangeTheIsolationState() {
        let submitted = DomainEvent.edrActionSubmitted(
            EDRActionSubmitted(
                deviceID: device, incidentID: Fixtures.incidentID(1), action: .isolate, edrActionID: "a-1",
                requestEventID: UUID(uuidString: "00000000-0000-0000-0000-000000000001")!, submittedAt: at))
        #expect(Fixtures.device(after: [Fixtures.isolationRequested(), submitted]).device?.state == .pending)
        #expect(submitted.stream == .device(device))
    }
}
