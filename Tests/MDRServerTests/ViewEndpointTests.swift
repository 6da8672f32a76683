import Foundation
import HTTPTypes
import MDRApplication
import MDRDomain
import MDRProjections
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// The read endpoints over the projections' views: incidents across and within tenants, devices and their history,
/// signal statistics, and the projections' lag; with tenant isolation.
@Suite struct ViewEndpointTests {
    /// Two tenants, each with an incident; acme-bv's is confirmed and its device being isolated. The views caught up.
    func scenario(_ api: APIWorld) async throws -> (acmeIncident: String, otherIncident: String) {
        try await api.onboard("acme-bv")
        try await api.onboard("other-co")
        let acmeIncident = try await api.openIncident("acme-bv", device: "ws-0042", alert: "a-1")
        let otherIncident = try await api.openIncident("other-co", device: "srv-7", alert: "o-1")
        let soc = try await api.token(.soc)
        let confirmed = try await api.post(
            "/v1/tenants/acme-bv/incidents/\(acmeIncident)/confirm", token: soc, ["priority": "P1", "summary": "ransomware"])
        #expect(confirmed.status == .ok, "\(confirmed.text)")
        let isolated = try await api.post(
            "/v1/tenants/acme-bv/devices/ws-0042/isolate", token: soc, ["incidentId": acmeIncident, "comment": "encrypting shares"])
        #expect(isolated.status == .accepted, "\(isolated.text)")
        try await TenantPipeline(ReadModels.standard(), store: api.services.store, logger: TestDatabase.logger).drain()
        return (acmeIncident, otherIncident)
    }

    func items(_ reply: Reply, _ key: String) -> [[String: Any]] { reply.json[key] as? [[String: Any]] ?? [] }

    @Test func theSOCListsIncidentsAcrossTenantsWithFiltersAndPages() async throws {
        try await APIWorld.run { api in
            let (acmeIncident, otherIncident) = try await scenario(api)
            let soc = try await api.token(.soc)
            let all = try await api.get("/v1/incidents", token: soc)
            #expect(all.status == .ok, "\(all.text)")
            #expect(Set(items(all, "incidents").compactMap { $0["incidentId"] as? String }) == [acmeIncident, otherIncident])

            let confirmed = try await api.get("/v1/incidents?status=confirmed&priority=P1", token: soc)
            let row = try #require(items(confirmed, "incidents").first)
            #expect(items(confirmed, "incidents").count == 1)
            #expect(row["tenantId"] as? String == "acme-bv" && row["incidentId"] as? String == acmeIncident)
            #expect(row["devices"] as? [String] == ["ws-0042"] && row["signalCount"] as? Int == 1 && row["summary"] as? String == "ransomware")
            #expect(items(try await api.get("/v1/incidents?device=srv-7", token: soc), "incidents").map { $0["tenantId"] as? String } == ["other-co"])
            #expect(items(try await api.get("/v1/incidents?tenant=other-co", token: soc), "incidents").count == 1)
            #expect(items(try await api.get("/v1/incidents?from=2099-01-01T00:00:00Z", token: soc), "incidents").isEmpty)

            // Two pages of one.
            let first = try await api.get("/v1/incidents?limit=1", token: soc)
            let cursor = try #require(first.json["next"] as? String)
            let second = try await api.get("/v1/incidents?limit=1&cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", token: soc)
            #expect(second.json["next"] == nil)
            let ids = (items(first, "incidents") + items(second, "incidents")).compactMap { $0["incidentId"] as? String }
            #expect(Set(ids) == [acmeIncident, otherIncident] && ids.count == 2)

            let customer = try await api.token(.customer, "acme-bv")
            let own = try await api.get("/v1/tenants/acme-bv/incidents", token: customer)
            #expect(own.status == .ok)
            #expect(items(own, "incidents").map { $0["incidentId"] as? String } == [acmeIncident])
        }
    }

    @Test func devicesHistoryStatisticsAndLagAreRead() async throws {
        try await APIWorld.run { api in
            let (acmeIncident, _) = try await scenario(api)
            let customer = try await api.token(.customer, "acme-bv")
            let devices = try await api.get("/v1/tenants/acme-bv/devices", token: customer)
            #expect(devices.status == .ok, "\(devices.text)")
            let device = try #require(items(devices, "devices").first)
            #expect(device["deviceId"] as? String == "ws-0042" && device["state"] as? String == "pending")
            #expect(device["incidentId"] as? String == acmeIncident && device["isolationType"] as? String == "Full")
            #expect(items(try await api.get("/v1/tenants/acme-bv/devices?state=isolated", token: customer), "devices").isEmpty)

            let history = try await api.get("/v1/tenants/acme-bv/devices/ws-0042/history", token: customer)
            #expect(history.status == .ok, "\(history.text)")
            let change = try #require(items(history, "history").first)
            #expect(change["state"] as? String == "pending" && change["note"] as? String == "encrypting shares")
            #expect(change["incidentId"] as? String == acmeIncident && (change["actor"] as? String)?.hasPrefix("token:") == true)

            let statistics = try await api.get("/v1/tenants/acme-bv/signal-statistics", token: customer)
            #expect(statistics.status == .ok, "\(statistics.text)")
            let counted = items(statistics, "rows")
            #expect(counted.count == 1 && counted.first?["outcome"] as? String == "accepted" && counted.first?["signals"] as? Int == 1)
            let empty = try await api.get("/v1/tenants/acme-bv/signal-statistics?from=2020-01-01&to=2020-01-31", token: customer)
            #expect(empty.status == .ok && items(empty, "rows").isEmpty)

            let lag = try await api.get("/v1/projections", token: try await api.token(.dynamic))
            #expect(lag.status == .ok, "\(lag.text)")
            let projections = items(lag, "projections")
            #expect(Set(projections.compactMap { $0["name"] as? String }) == Set(ReadModels.standard().map(\.name)))
            #expect(projections.allSatisfy { $0["eventsBehind"] as? Int == 0 && ($0["tenants"] as? [Any])?.count == 2 })
        }
    }

    @Test func anotherTenantsViewsAreNotFoundAndTheCrossTenantListsAreForbidden() async throws {
        try await APIWorld.run { api in
            _ = try await scenario(api)
            let other = try await api.token(.customer, "other-co")
            for path in [
                "/v1/tenants/acme-bv/incidents", "/v1/tenants/acme-bv/devices", "/v1/tenants/acme-bv/devices/ws-0042/history",
                "/v1/tenants/acme-bv/signal-statistics",
            ] {
                expectProblem(try await api.get(path, token: other), .notFound, "tenant_not_found", "\(path)")
            }
            expectProblem(try await api.get("/v1/incidents", token: other), .forbidden, "forbidden")
            expectProblem(try await api.get("/v1/projections", token: other), .forbidden, "forbidden")
            let connector = try await api.token(.connector, "acme-bv")
            expectProblem(try await api.get("/v1/tenants/acme-bv/incidents", token: connector), .forbidden, "forbidden")
            expectProblem(try await api.get("/v1/incidents", token: connector), .forbidden, "forbidden")

            let soc = try await api.token(.soc)
            expectProblem(try await api.get("/v1/tenants/no-such-co/devices", token: soc), .notFound, "tenant_not_found")
            expectProblem(try await api.get("/v1/tenants/acme-bv/devices/ws-9999/history", token: soc), .notFound, "device_not_found")
            #expect(try await api.get("/v1/incidents?cursor=nonsense", token: soc).status == .badRequest)
            #expect(try await api.get("/v1/incidents?limit=0", token: soc).status == .badRequest)
            #expect(try await api.get("/v1/tenants/acme-bv/signal-statistics?from=2026-12-01&to=2026-11-01", token: soc).status == .badRequest)
            #expect(try await api.get("/v1/tenants/acme-bv/signal-statistics?from=2024-01-01&to=2026-01-01", token: soc).status == .badRequest)
            // The last days a date can name are days like any other (the range check once stepped past 9999-12-31).
            #expect(try await api.get("/v1/tenants/acme-bv/signal-statistics?from=9999-12-01&to=9999-12-31", token: soc).status == .ok)
            #expect(try await api.get("/v1/tenants/acme-bv/signal-statistics?to=1900-01-10", token: soc).status == .ok)
            #expect(try await api.get("/v1/incidents", token: nil).status == .unauthorized)
        }
    }
}
