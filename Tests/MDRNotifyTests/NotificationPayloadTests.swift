import Foundation
import MDRDomain
import MDRNotify
import Testing

struct NotificationPayloadTests {
    let tenant = TenantID(rawValue: "acme")!
    let incident = IncidentID(rawValue: UUID(uuidString: "7F1C2E3A-0000-4000-8000-000000000001")!)
    let at = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func incidentPayloadIsThinAndEncodedWithSortedKeys() throws {
        let payload = NotificationPayload(
            notificationID: "ntf_1", subject: .incidentConfirmed(incident, .p1), tenant: tenant, occurredAt: at,
            links: ["incident": URL(string: "https://mdr.example/v1/tenants/acme/incidents/\(incident)")!])
        let json = String(decoding: try payload.encoded(), as: UTF8.self)
        #expect(json == #"{"data":{"incident_id":"\#(incident)","links":{"incident":"https://mdr.example/v1/tenants/acme/incidents/\#(incident)"},"notification_id":"ntf_1","priority":"P1","tenant":"acme"},"timestamp":"2023-11-14T22:13:20.000Z","type":"incident.confirmed"}"#)
        #expect(try NotificationPayload.decode(payload.encoded()) == payload)
    }

    @Test func isolationAndSlaPayloadsNameTheirSubject() throws {
        let device = DeviceID(rawValue: "LAPTOP-042")!
        let isolation = NotificationPayload(
            notificationID: "ntf_2", subject: .isolation(device, .releaseRequested), tenant: tenant, occurredAt: at, links: [:])
        #expect(isolation.type == "isolation.release_requested")
        #expect(isolation.data.deviceID == device)
        #expect(isolation.data.priority == nil)
        let breach = NotificationPayload(
            notificationID: "ntf_3", subject: .slaBreached(incident, .notify, .p2), tenant: tenant, occurredAt: at, links: [:])
        #expect(breach.type == "sla.breached")
        #expect(breach.data.slaTarget == .notify)
        #expect(breach.data.priority == .p2)
        #expect(try breach.encoded() == breach.encoded())
    }
}
