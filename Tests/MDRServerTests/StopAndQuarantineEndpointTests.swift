import Foundation
import HTTPTypes
import MDRDomain
import Testing

/// `POST /v1/tenants/{t}/devices/{d}/stop-and-quarantine`: the ransomware case, recorded for the responder.
@Suite struct StopAndQuarantineEndpointTests {
    static let path = "/v1/tenants/acme-bv/devices/ws-0042/stop-and-quarantine"

    @Test func theSocRequestsStopAndQuarantineOfAFileForAConfirmedIncident() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let incident = try await api.openIncident("acme-bv")
            let soc = try await api.token(.soc)
            let body: [String: Any] = ["incidentId": incident, "sha1": "87662BC3D60E4200CEAF7AAE249D1C343F4B83C9", "comment": "ransomware binary"]

            expectProblem(try await api.post(Self.path, token: soc, body), .conflict, "incident_not_confirmed")
            let confirmed = try await api.post(
                "/v1/tenants/acme-bv/incidents/\(incident)/confirm", token: soc, ["priority": "P1", "summary": "Ransomware on ws-0042"])
            #expect(confirmed.status == .ok, "\(confirmed.text)")

            var bad = body
            bad["sha1"] = "not-a-hash"
            expectProblem(try await api.post(Self.path, token: soc, bad), .unprocessableContent, "invalid_sha1")
            let customer = try await api.token(.customer, "acme-bv")
            expectProblem(try await api.post(Self.path, token: customer, body), .forbidden, "forbidden")

            let accepted = try await api.post(Self.path, token: soc, body, key: "sq-1")
            #expect(accepted.status == .accepted, "\(accepted.text)")
            #expect(accepted.json["sha1"] as? String == "87662bc3d60e4200ceaf7aae249d1c343f4b83c9")
            #expect(accepted.json["deviceId"] as? String == "ws-0042")
            #expect(accepted.json["incidentId"] as? String == incident)
            #expect(accepted.json["comment"] as? String == "ransomware binary")

            let events = try await api.get("/v1/tenants/acme-bv/events?after=0&limit=100", token: soc)
            let types = (events.json["events"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
            #expect(types.filter { $0 == "FileQuarantineRequested" }.count == 1)
        }
    }
}
