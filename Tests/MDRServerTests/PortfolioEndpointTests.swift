import Foundation
import HTTPTypes
import MDRApplication
import MDRDomain
import MDRProjections
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// Dynamic's portfolio (issue 17): `GET /v1/tenants` and `mdr tenant list`.
@Suite struct PortfolioEndpointTests {
    /// acme-bv (Compliant, under notice, one open incident) and veilig-co (Veilig).
    static func scenario(_ api: APIWorld) async throws {
        try await api.onboard("acme-bv")
        try await api.onboard("veilig-co", APIWorld.onboarding("veilig-co", package: "veilig"))
        let dynamic = try await api.token(.dynamic)
        let notice = try await api.post("/v1/tenants/acme-bv/contract/notice", token: dynamic, ["receivedOn": "2026-12-01", "channel": "email"])
        #expect(notice.status == .ok, "\(notice.text)")
        _ = try await api.openIncident("acme-bv")
        try await TenantPipeline(ReadModels.standard(), store: api.services.store, logger: TestDatabase.logger).drain()
    }

    func ids(_ reply: Reply) -> [String] { (reply.json["tenants"] as? [[String: Any]] ?? []).compactMap { $0["tenantId"] as? String } }

    @Test func dynamicListsItsCustomersWithFiltersPagesAndCSV() async throws {
        try await APIWorld.run { api in
            try await Self.scenario(api)
            let dynamic = try await api.token(.dynamic)
            let all = try await api.get("/v1/tenants?on=2026-12-07", token: dynamic)
            #expect(all.status == .ok, "\(all.text)")
            #expect(ids(all) == ["acme-bv", "veilig-co"])
            let acme = try #require((all.json["tenants"] as? [[String: Any]])?.first)
            #expect(acme["contractPhase"] as? String == "under_notice" && acme["endDate"] as? String == "2027-01-01", "\(acme)")
            #expect(acme["openIncidents"] as? Int == 1 && acme["package"] as? String == "compliant" && acme["sla"] as? String == "A")
            #expect(acme["onboarding"] as? String == "onboarded" && acme["on"] as? String == "2026-12-07")
            // As of a day before the notice, nobody is under notice.
            #expect(ids(try await api.get("/v1/tenants?on=2026-11-30&phase=under_notice", token: dynamic)).isEmpty)

            #expect(ids(try await api.get("/v1/tenants?phase=under_notice", token: dynamic)) == ["acme-bv"])
            #expect(ids(try await api.get("/v1/tenants?package=veilig", token: dynamic)) == ["veilig-co"])
            #expect(ids(try await api.get("/v1/tenants?endsBefore=2027-02-01", token: dynamic)) == ["acme-bv"])
            #expect(ids(try await api.get("/v1/tenants?onboarding=monitoring_active", token: dynamic)).isEmpty)

            let first = try await api.get("/v1/tenants?limit=1", token: dynamic)
            #expect(ids(first) == ["acme-bv"])
            let next = try #require(first.json["next"] as? String)
            let second = try await api.get("/v1/tenants?limit=1&cursor=\(next)", token: dynamic)
            #expect(ids(second) == ["veilig-co"] && second.json["next"] == nil)

            let csv = try await api.get("/v1/tenants?format=csv", token: dynamic)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = String(decoding: csv.body, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.count == 3 && lines[1].hasPrefix("acme-bv,") && lines[2].hasPrefix("veilig-co,"), "\(lines)")

            // The SOC reads it too; customers and connectors do not.
            #expect(ids(try await api.get("/v1/tenants", token: try await api.token(.soc))) == ["acme-bv", "veilig-co"])
            expectProblem(try await api.get("/v1/tenants", token: try await api.token(.customer, "acme-bv")), .forbidden, "forbidden")
            expectProblem(try await api.get("/v1/tenants", token: try await api.token(.connector, "acme-bv")), .forbidden, "forbidden")
            expectProblem(try await api.get("/v1/tenants?on=2026-13-01", token: dynamic), .unprocessableContent, "invalid_field")
        }
    }

    @Test func theCommandLineListsThePortfolio() async throws {
        try await TestDatabase.withDatabase { database, config in
            let commands = CommandService(store: EventStore(database: database))
            for id in ["acme-bv", "globex"] {
                _ = try await commands.onboardTenant(Fixtures.onboard(id), context: CommandContext(principal: Fixtures.dynamic))
            }
            let json = try CommandLineRunner.mdr(["tenant", "list", "--on", "2026-12-07"], database: config)
            #expect(json.status == 0, "\(json.output)")
            #expect(json.output.contains("\"tenantID\" : \"acme-bv\"") && json.output.contains("\"tenantID\" : \"globex\""), "\(json.output)")
            let csv = try CommandLineRunner.mdr(["tenant", "list", "--format", "csv", "--package", "veilig"], database: config)
            #expect(csv.status == 0 && csv.output == PortfolioExport.header.joined(separator: ",") + "\r\n", "\(csv.output)")
            let bad = try CommandLineRunner.mdr(["tenant", "list", "--phase", "soon"], database: config)
            #expect(bad.status != 0 && bad.output.contains("--phase 'soon'"), "\(bad.output)")
        }
    }
}
