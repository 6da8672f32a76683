import Foundation
import HTTPTypes
import HummingbirdTesting
import MDRApplication
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import ServiceLifecycle
import Testing

/// The seed's story over real loopback HTTP, with the correlator running beside the server:
/// Dynamic onboards a customer, its connector sends a signal, the SOC confirms the incident and isolates the device.
@Suite struct EndToEndTests {
    @Test func signalBecomesIncidentThatIsConfirmedIsolatedAndReleasedOverHTTP() async throws {
        try await APIWorld.run(
            .live,
            background: { services in
                [TenantPipeline([ProcessManager(CorrelationProcessor())], store: services.store, configuration: .init(pollInterval: .milliseconds(100)), logger: TestDatabase.logger)]
            }
        ) { api in
            let dynamic = try await api.token(.dynamic)
            let soc = try await api.token(.soc)

            // Dynamic onboards the customer.
            let onboarded = try await api.post("/v1/tenants", token: dynamic, APIWorld.onboarding("acme-bv"), key: "onboard-acme")
            #expect(onboarded.status == .created, "\(onboarded.text)")
            #expect(onboarded.json["sla"] as? String == "A")
            #expect(onboarded.json["mdrStatus"] as? String == "included")

            // Its connector sends a signal about ws-0042.
            let connector = try await api.token(.connector, "acme-bv")
            let ingested = try await api.post(
                "/v1/tenants/acme-bv/signals", token: connector, ["signals": [Fixtures.signal(alert: "da-0001", device: "ws-0042")]],
                key: "batch-1")
            #expect(ingested.status == .ok, "\(ingested.text)")
            #expect(ingested.json["accepted"] as? Int == 1)

            // The processor opens an incident: the SOC platform sees it in the event log.
            var incidentID: String?
            let clock = ContinuousClock()
            let giveUp = clock.now.advanced(by: .seconds(90))
            while incidentID == nil, clock.now < giveUp {
                let page = try await api.get("/v1/tenants/acme-bv/events?after=0&limit=100", token: soc)
                #expect(page.status == .ok)
                let events = page.json["events"] as? [[String: Any]] ?? []
                if let opened = events.first(where: { $0["type"] as? String == "IncidentOpened" }) {
                    incidentID = (opened["data"] as? [String: Any])?["incidentID"] as? String
                } else {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            let incident = try #require(incidentID, "no IncidentOpened within 15 s")

            let read = try await api.get("/v1/tenants/acme-bv/incidents/\(incident)", token: soc)
            #expect(read.status == .ok, "\(read.text)")
            #expect(read.json["status"] as? String == "open")
            #expect(read.json["devices"] as? [String] == ["ws-0042"])
            let timeline = read.json["timeline"] as? [[String: Any]] ?? []
            #expect(timeline.map { $0["type"] as? String } == ["IncidentOpened"])
            #expect(timeline.first?["actor"] as? String == "system:correlator")

            // Isolation needs a confirmed incident.
            let isolate: [String: Any] = ["incidentId": incident, "isolationType": "Full", "comment": "ransomware behaviour on ws-0042"]
            let early = try await api.post("/v1/tenants/acme-bv/devices/ws-0042/isolate", token: soc, isolate)
            expectProblem(early, .conflict, "incident_not_confirmed")

            let confirmed = try await api.post(
                "/v1/tenants/acme-bv/incidents/\(incident)/confirm", token: soc, ["priority": "P1", "summary": "Ransomware on ws-0042"])
            #expect(confirmed.status == .ok, "\(confirmed.text)")
            #expect(confirmed.json["status"] as? String == "confirmed")
            #expect(confirmed.json["priority"] as? String == "P1")

            let isolated = try await api.post("/v1/tenants/acme-bv/devices/ws-0042/isolate", token: soc, isolate)
            #expect(isolated.status == .accepted, "\(isolated.text)")
            #expect(isolated.json["state"] as? String == "pending")
            #expect(isolated.json["incidentId"] as? String == incident)

            let again = try await api.post("/v1/tenants/acme-bv/devices/ws-0042/isolate", token: soc, isolate)
            expectProblem(again, .conflict, "device_isolation_pending")

            // The customer sees its own device's state.
            let customer = try await api.token(.customer, "acme-bv")
            let device = try await api.get("/v1/tenants/acme-bv/devices/ws-0042", token: customer)
            #expect(device.status == .ok, "\(device.text)")
            #expect(device.json["state"] as? String == "pending")
            #expect((device.json["history"] as? [Any])?.count == 1)

            let released = try await api.post("/v1/tenants/acme-bv/devices/ws-0042/release", token: soc, ["reason": "threat cleaned up"])
            #expect(released.status == .accepted, "\(released.text)")
            #expect(released.json["state"] as? String == "release_pending")

            // The whole story is in the log, in order, each event by its actor.
            let log = try await api.get("/v1/tenants/acme-bv/events?after=0&limit=1000", token: soc)
            let types = (log.json["events"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
            #expect(
                types == [
                    "TenantOnboarded", "SignalIngested", "IncidentOpened", "IncidentConfirmed", "DeviceIsolationRequested",
                    "DeviceReleaseRequested",
                ])
            #expect(log.json["head"] as? Int == 6)
            #expect(log.json["nextAfter"] as? Int == 6)
        }
    }
}
