import Foundation
import HTTPTypes
import MDRDomain
import Testing

/// The device inventory and the billing lookups over HTTP (DOMAIN.md, "Billing and reports").
@Suite struct BillingEndpointTests {
    static let base = "/v1/tenants/acme-bv"
    static var thisMonth: String { BillingMonth(BusinessClock.standard.localDate(of: Date())).description }

    /// Onboards `tenant` and takes it through the onboarding steps to monitoring active.
    static func activate(_ api: APIWorld, _ tenant: String, package: String = "veilig") async throws {
        try await api.onboard(tenant, APIWorld.onboarding(tenant, package: package))
        let dynamic = try await api.token(.dynamic)
        for source in ["endpoint", "microsoft365", "firewall", "antivirus"] {
            let check = try await api.post("/v1/tenants/\(tenant)/health-checks", token: dynamic, ["source": source, "status": "delivering", "missing": []])
            #expect(check.status == .ok, "\(check.text)")
        }
        for step in ["roll-out", "hand-over", "monitoring/activate"] {
            let reply = try await api.post("/v1/tenants/\(tenant)/\(step)", token: dynamic, [:])
            #expect(reply.status == .ok, "\(step): \(reply.text)")
        }
    }

    static func enrol(_ devices: [(String, String)], effectiveAt: String? = nil) -> [String: Any] {
        var body: [String: Any] = ["enrol": devices.map { ["deviceId": $0.0, "kind": $0.1] }]
        if let effectiveAt { body["effectiveAt"] = effectiveAt }
        return body
    }

    @Test func aConnectorSyncsTheInventoryAndDynamicReadsTheMonthsBillingLine() async throws {
        try await APIWorld.run { api in
            try await Self.activate(api, "acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let monthStart = Timestamp.format(Billing.bounds(of: BillingMonth(Self.thisMonth)!).start)
            let devices = [("ws-1", "workstation"), ("ws-2", "workstation"), ("srv-1", "server")]

            let first = try await api.post("\(Self.base)/device-inventory", token: connector, Self.enrol(devices, effectiveAt: monthStart), key: "sync-1")
            #expect(first.status == .ok, "\(first.text)")
            #expect(first.json["enrolled"] as? [String] == ["ws-1", "ws-2", "srv-1"])
            #expect(first.json["workstations"] as? Int == 2)
            #expect(first.json["servers"] as? Int == 1)
            let head = try await api.head("acme-bv")
            let replay = try await api.post("\(Self.base)/device-inventory", token: connector, Self.enrol(devices, effectiveAt: monthStart), key: "sync-1")
            #expect(replay.status == .ok, "\(replay.text)")
            #expect(replay.replayed)
            // The next sync names the same devices: nothing is recorded.
            let again = try await api.post("\(Self.base)/device-inventory", token: connector, Self.enrol(devices))
            #expect(again.json["unchanged"] as? [String] == ["ws-1", "ws-2", "srv-1"], "\(again.text)")
            #expect((again.json["enrolled"] as? [String])?.isEmpty == true)
            try await api.expectHead("acme-bv", head, "an unchanged sync appends nothing")

            let offboard = try await api.post("\(Self.base)/device-inventory", token: connector, ["offboard": [["deviceId": "ws-2", "reason": "replaced"]]])
            #expect(offboard.json["offboarded"] as? [String] == ["ws-2"], "\(offboard.text)")

            let customer = try await api.token(.customer, "acme-bv")
            let inventory = try await api.get("\(Self.base)/device-inventory", token: customer)
            #expect(inventory.status == .ok, "\(inventory.text)")
            let listed = inventory.json["devices"] as? [[String: Any]] ?? []
            #expect(listed.map { $0["deviceId"] as? String } == ["srv-1", "ws-1", "ws-2"])
            #expect(listed.map { $0["monitored"] as? Bool } == [true, true, false])
            #expect((listed.last?["periods"] as? [[String: Any]])?.first?["until"] is String)

            // ws-2 was monitored for a moment after monitoring became active: it is billed for the whole month.
            let dynamic = try await api.token(.dynamic)
            let line = try await api.get("\(Self.base)/billing/\(Self.thisMonth)", token: dynamic)
            #expect(line.status == .ok, "\(line.text)")
            #expect(line.json["status"] as? String == "billable")
            #expect(line.json["charge"] as? String == "per_workstation")
            #expect(line.json["workstations"] as? [String] == ["ws-1", "ws-2"])
            #expect(line.json["servers"] as? [String] == ["srv-1"])
            #expect(line.json["unitPriceCents"] as? Int == 850)
            #expect(line.json["amountCents"] as? Int == 1_700)
            #expect(line.json["currency"] as? String == "EUR")
            #expect(line.json["monitoredFrom"] is String)
        }
    }

    @Test func inventoryChangesAreRefusedWholeWithClearCodes() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            try await api.onboard("globex")
            let connector = try await api.token(.connector, "acme-bv")
            #expect(try await api.post("\(Self.base)/device-inventory", token: connector, Self.enrol([("ws-1", "workstation")])).status == .ok)
            let head = try await api.head("acme-bv")
            let future = Timestamp.format(Date().addingTimeInterval(3_600))

            expectProblem(
                try await api.post("\(Self.base)/device-inventory", token: connector, Self.enrol([("ws-1", "server"), ("ws-9", "workstation")])),
                .conflict, "device_kind_conflict")
            expectProblem(
                try await api.post("\(Self.base)/device-inventory", token: connector, ["enrol": [["deviceId": "ws-9", "kind": "workstation"]], "offboard": [["deviceId": "ws-8"]]]),
                .conflict, "device_not_enrolled")
            expectProblem(
                try await api.post("\(Self.base)/device-inventory", token: connector, Self.enrol([("ws-9", "workstation")], effectiveAt: future)),
                .unprocessableContent, "effective_time_in_future")
            expectProblem(try await api.post("\(Self.base)/device-inventory", token: connector, [:]), .unprocessableContent, "inventory_change_empty")
            expectProblem(
                try await api.post("\(Self.base)/device-inventory", token: connector, Self.enrol([("ws/9", "workstation")])),
                .unprocessableContent, "invalid_field")
            expectProblem(
                try await api.post("\(Self.base)/device-inventory", token: connector, Self.enrol([("ws-9", "workstation"), ("ws-9", "workstation")])),
                .unprocessableContent, "device_listed_twice")
            let badKind = try await api.post("\(Self.base)/device-inventory", token: connector, Self.enrol([("ws-9", "laptop")]))
            let badKindStatus = badKind.status.code
            #expect((400..<500).contains(badKindStatus), "\(badKind.text)")
            #expect(badKind.headers[.contentType] == "application/problem+json")
            // Roles and tenants.
            expectProblem(
                try await api.post("\(Self.base)/device-inventory", token: try await api.token(.customer, "acme-bv"), Self.enrol([("ws-9", "workstation")])),
                .forbidden, "forbidden")
            expectProblem(
                try await api.post("\(Self.base)/device-inventory", token: try await api.token(.soc), Self.enrol([("ws-9", "workstation")])),
                .forbidden, "forbidden")
            expectProblem(
                try await api.post("\(Self.base)/device-inventory", token: try await api.token(.connector, "globex"), Self.enrol([("ws-9", "workstation")])),
                .notFound, "tenant_not_found")
            try await api.expectHead("acme-bv", head, "a refused change appends nothing, not even its valid part")
        }
    }

    @Test func billingIsDynamicsAndTheExportListsEveryTenantAsJsonOrCsv() async throws {
        try await APIWorld.run { api in
            try await Self.activate(api, "acme-bv")
            try await api.onboard("globex")  // Compliant, still onboarding
            let connector = try await api.token(.connector, "acme-bv")
            #expect(try await api.post("\(Self.base)/device-inventory", token: connector, Self.enrol([("ws-1", "workstation"), ("ws-2", "workstation")])).status == .ok)
            let dynamic = try await api.token(.dynamic)

            expectProblem(try await api.get("\(Self.base)/billing/\(Self.thisMonth)", token: try await api.token(.soc)), .forbidden, "forbidden")
            expectProblem(try await api.get("\(Self.base)/billing/\(Self.thisMonth)", token: try await api.token(.customer, "acme-bv")), .forbidden, "forbidden")
            expectProblem(try await api.get("/v1/billing/\(Self.thisMonth)", token: try await api.token(.soc)), .forbidden, "forbidden")
            expectProblem(try await api.get("\(Self.base)/billing/2026-13", token: dynamic), .unprocessableContent, "invalid_month")
            expectProblem(try await api.get("/v1/tenants/nobody/billing/\(Self.thisMonth)", token: dynamic), .notFound, "tenant_not_found")

            let json = try await api.get("/v1/billing/\(Self.thisMonth)", token: dynamic)
            #expect(json.status == .ok, "\(json.text)")
            let lines = json.json["lines"] as? [[String: Any]] ?? []
            #expect(lines.map { $0["tenantId"] as? String } == ["acme-bv", "globex"])
            #expect(lines.map { $0["status"] as? String } == ["billable", "monitoring_not_active"])
            #expect(lines.last?["charge"] as? String == "included")
            #expect(lines.last?["amountCents"] == nil)
            let totals = json.json["totals"] as? [String: Any] ?? [:]
            #expect(totals["tenants"] as? Int == 2)
            #expect(totals["billable"] as? Int == 1)
            #expect(totals["workstations"] as? Int == 2)
            #expect(totals["amountCents"] as? Int == 1_700)

            let csv = try await api.get("/v1/billing/\(Self.thisMonth)?format=csv", token: dynamic)
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true, "\(csv.headers)")
            let rows = String(decoding: csv.body, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(rows.count == 3)
            #expect(rows[0].hasPrefix("month,tenant_id,tenant_name"))
            #expect(rows[1] == "\(Self.thisMonth),acme-bv,Tenant acme-bv,veilig,add_on,per_workstation,billable,2,0,8.50,17.00,EUR")
            #expect(rows[2] == "\(Self.thisMonth),globex,Tenant globex,compliant,included,included,monitoring_not_active,0,0,,,EUR")

            let negotiated = try await api.send(.get, "/v1/billing/\(Self.thisMonth)", token: dynamic, headers: [(.accept, "text/csv")])
            #expect(negotiated.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(String(decoding: negotiated.body, as: UTF8.self) == String(decoding: csv.body, as: UTF8.self))
        }
    }
}
