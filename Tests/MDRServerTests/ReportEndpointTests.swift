import Foundation
import HTTPTypes
import MDRApplication
import MDRDomain
import MDRProjections
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// `GET /v1/tenants/{tenantId}/reports/{month}` and `…/reports?from=&to=`: JSON and HTML, the roles, tenant isolation
/// and refused periods.
@Suite struct ReportEndpointTests {
    /// Today on the Amsterdam calendar, as the reports count days.
    static var today: (month: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Amsterdam")!
        let p = calendar.dateComponents([.year, .month, .day], from: Date())
        return (String(format: "%04d-%02d", p.year!, p.month!), String(format: "%04d-%02d-%02d", p.year!, p.month!, p.day!))
    }

    /// Two tenants, each with a signal and an incident; acme-bv's confirmed as P1. Projections caught up.
    static func seed(_ api: APIWorld) async throws {
        try await api.onboard("acme-bv")
        try await api.onboard("other-co")
        let incident = try await api.openIncident("acme-bv", device: "ws-0042", alert: "a-1")
        _ = try await api.openIncident("other-co", device: "srv-7", alert: "o-1")
        let confirmed = try await api.post(
            "/v1/tenants/acme-bv/incidents/\(incident)/confirm", token: try await api.token(.soc), ["priority": "P1", "summary": "ransomware"])
        #expect(confirmed.status == .ok, "\(confirmed.text)")
        try await TenantPipeline(ReadModels.standard(), store: api.services.store, logger: TestDatabase.logger).drain()
    }

    @Test func theCustomerReadsItsMonthAsJSONAndAsHTML() async throws {
        try await APIWorld.run { api in
            try await Self.seed(api)
            let customer = try await api.token(.customer, "acme-bv")
            let month = Self.today.month

            let json = try await api.get("/v1/tenants/acme-bv/reports/\(month)", token: customer)
            #expect(json.status == .ok, "\(json.text)")
            #expect(json.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect((json.json["tenant"] as? [String: Any])?["id"] as? String == "acme-bv")
            #expect((json.json["period"] as? [String: Any])?["from"] as? String == "\(month)-01")
            let signals = json.json["signals"] as? [String: Any] ?? [:]
            #expect(signals["received"] as? Int == 1 && signals["correlated"] as? Int == 1)
            let incidents = json.json["incidents"] as? [String: Any] ?? [:]
            #expect(incidents["opened"] as? Int == 1 && incidents["confirmed"] as? Int == 1)
            #expect((incidents["confirmedByPriority"] as? [String: Int])?["P1"] == 1)
            let listed = incidents["confirmedIncidents"] as? [[String: Any]] ?? []
            #expect(listed.count == 1 && listed.first?["summary"] as? String == "ransomware" && listed.first?["priority"] as? String == "P1")
            #expect((listed.first?["id"] as? String).flatMap(IncidentID.init)?.description == listed.first?["id"] as? String)
            #expect((json.json["coverage"] as? [Any])?.count == 4)

            for reply in [
                try await api.get("/v1/tenants/acme-bv/reports/\(month)?format=html", token: customer),
                try await api.send(.get, "/v1/tenants/acme-bv/reports/\(month)", token: customer, headers: [(.accept, "text/html,*/*;q=0.8")]),
            ] {
                #expect(reply.status == .ok, "\(reply.text)")
                #expect(reply.headers[.contentType]?.hasPrefix("text/html") == true, "\(reply.headers)")
                let html = String(decoding: reply.body, as: UTF8.self)
                #expect(html.contains("Tenant acme-bv") && html.contains("<svg class=\"chart\""))
                #expect(html.contains("<td>Endpoint (EDR)</td><td>0</td><td>1</td>"))
            }
            // `format` wins over the order of the Accept header; an Accept header that excludes the format is a 406.
            let asked = try await api.send(
                .get, "/v1/tenants/acme-bv/reports/\(month)?format=json", token: customer, headers: [(.accept, "text/html, application/json;q=0.5")])
            #expect(asked.headers[.contentType]?.hasPrefix("application/json") == true, "\(asked.text)")
            let refused = try await api.send(.get, "/v1/tenants/acme-bv/reports/\(month)?format=json", token: customer, headers: [(.accept, "text/html")])
            expectProblem(refused, .notAcceptable, "not_acceptable")
        }
    }

    @Test func anyPeriodOnDemand() async throws {
        try await APIWorld.run { api in
            try await Self.seed(api)
            let soc = try await api.token(.soc)
            let day = Self.today.day
            let reply = try await api.get("/v1/tenants/other-co/reports?from=\(day)&to=\(day)", token: soc)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect((reply.json["period"] as? [String: Any])?["days"] as? Int == 1)
            #expect((reply.json["signals"] as? [String: Any])?["received"] as? Int == 1)
            #expect((reply.json["incidents"] as? [String: Any])?["confirmed"] as? Int == 0)
            let dynamic = try await api.token(.dynamic)
            #expect(try await api.get("/v1/tenants/acme-bv/reports?from=\(day)&to=\(day)&format=html", token: dynamic).status == .ok)
        }
    }

    @Test func otherTenantsReportsAreNotFound() async throws {
        try await APIWorld.run { api in
            try await Self.seed(api)
            let month = Self.today.month
            let customer = try await api.token(.customer, "acme-bv")
            expectProblem(try await api.get("/v1/tenants/other-co/reports/\(month)", token: customer), .notFound, "tenant_not_found")
            expectProblem(
                try await api.get("/v1/tenants/other-co/reports?from=2026-11-01&to=2026-11-30&format=html", token: customer), .notFound,
                "tenant_not_found")
            let connector = try await api.token(.connector, "acme-bv")
            let refused = try await api.get("/v1/tenants/acme-bv/reports/\(month)", token: connector)
            #expect([403, 404].contains(refused.status.code), "\(refused.text)")
            expectProblem(try await api.get("/v1/tenants/nobody/reports/\(month)", token: try await api.token(.soc)), .notFound, "tenant_not_found")
        }
    }

    @Test func aPeriodThatIsNotOneIsRefused() async throws {
        try await APIWorld.run { api in
            try await Self.seed(api)
            let customer = try await api.token(.customer, "acme-bv")
            for uri in [
                "/v1/tenants/acme-bv/reports/2026-13", "/v1/tenants/acme-bv/reports/november",
                "/v1/tenants/acme-bv/reports?from=2026-11-30&to=2026-11-01", "/v1/tenants/acme-bv/reports?from=2026-11-01&to=2027-11-30",
                "/v1/tenants/acme-bv/reports?from=2026-11-31&to=2026-12-01",
            ] {
                expectProblem(try await api.get(uri, token: customer), .unprocessableContent, "invalid_period", "\(uri)")
            }
        }
    }
}
