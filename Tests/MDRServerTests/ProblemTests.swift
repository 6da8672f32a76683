import Foundation
import HTTPTypes
import HummingbirdTesting
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// Errors are `application/problem+json` with the domain's stable codes, and appending nothing.
@Suite struct ProblemTests {
    @Test func onboardingModernIsRefusedWithMDRNotAvailable() async throws {
        try await APIWorld.run { api in
            let reply = try await api.post("/v1/tenants", token: try await api.token(.dynamic), APIWorld.onboarding("acme-bv", package: "modern"))
            expectProblem(reply, .unprocessableContent, "mdr_not_available")
            try await api.expectHead("acme-bv", 0)
        }
    }

    @Test(arguments: [
        ("primaryContact", "primary_contact_missing"), ("afterHoursRoute", "after_hours_route_missing"), ("consent", "consent_missing"),
    ])
    func onboardingWithoutAnAgreementIsRefusedWithItsCode(field: String, code: String) async throws {
        try await APIWorld.run { api in
            var body = APIWorld.onboarding("acme-bv")
            body[field] = nil
            let reply = try await api.post("/v1/tenants", token: try await api.token(.dynamic), body)
            expectProblem(reply, .unprocessableContent, code)
            try await api.expectHead("acme-bv", 0)
        }
    }

    @Test func onboardingFieldErrorsUseTheDomainCodes() async throws {
        try await APIWorld.run { api in
            let dynamic = try await api.token(.dynamic)
            var badID = APIWorld.onboarding("acme-bv")
            badID["tenantId"] = "Acme BV"
            expectProblem(try await api.post("/v1/tenants", token: dynamic, badID), .unprocessableContent, "invalid_tenant_id")
            var badDate = APIWorld.onboarding("acme-bv")
            badDate["contractStart"] = "2026-02-30"
            expectProblem(try await api.post("/v1/tenants", token: dynamic, badDate), .unprocessableContent, "invalid_field")
            expectProblem(
                try await api.post(
                    "/v1/tenants", token: dynamic, APIWorld.onboarding("acme-bv", package: "veilig").filter { $0.key != "pricePerWorkstationCents" }),
                .unprocessableContent, "price_missing")
            try await api.onboard("acme-bv")
            expectProblem(try await api.post("/v1/tenants", token: dynamic, APIWorld.onboarding("acme-bv")), .conflict, "tenant_exists")
        }
    }

    @Test func malformedJSONAndMissingFieldsAreBadRequests() async throws {
        try await APIWorld.run { api in
            let dynamic = try await api.token(.dynamic)
            let broken = try await api.send(.post, "/v1/tenants", token: dynamic, raw: Data(#"{"tenantId": "acme-bv", "#.utf8))
            expectProblem(broken, .badRequest, "bad_request")
            var noName = APIWorld.onboarding("acme-bv")
            noName["name"] = nil
            let missing = try await api.post("/v1/tenants", token: dynamic, noName)
            expectProblem(missing, .badRequest, "bad_request")
            #expect((missing.json["detail"] as? String)?.contains("name") == true, "\(missing.text)")
            var unknownPackage = APIWorld.onboarding("acme-bv")
            unknownPackage["package"] = "gold"
            expectProblem(try await api.post("/v1/tenants", token: dynamic, unknownPackage), .badRequest, "bad_request")
            var unknownField = APIWorld.onboarding("acme-bv")
            unknownField["discount"] = 10
            expectProblem(try await api.post("/v1/tenants", token: dynamic, unknownField), .badRequest, "bad_request")
            let longCorrelation = try await api.send(
                .post, "/v1/tenants", token: dynamic, json: APIWorld.onboarding("acme-bv"),
                headers: [(.correlationID, String(repeating: "c", count: 201))])
            expectProblem(longCorrelation, .badRequest, "bad_request")
            try await api.expectHead("acme-bv", 0)
        }
    }

    @Test func incidentAndDeviceRefusalsCarryTheirCodes() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let incident = try await api.openIncident("acme-bv", device: "ws-0042")
            let soc = try await api.token(.soc)
            let base = "/v1/tenants/acme-bv"

            expectProblem(
                try await api.post("\(base)/incidents/\(incident)/resolve", token: soc, ["resolution": "reimaged"]), .conflict,
                "incident_not_confirmed")
            expectProblem(
                try await api.post("\(base)/incidents/\(UUID().uuidString)/confirm", token: soc, ["priority": "P2", "summary": "x"]),
                .notFound, "incident_not_found")
            expectProblem(try await api.get("\(base)/incidents/not-a-uuid", token: soc), .notFound, "incident_not_found")
            expectProblem(
                try await api.post("\(base)/incidents/\(incident)/confirm", token: soc, ["priority": "P2", "summary": "   "]),
                .unprocessableContent, "summary_missing")
            expectProblem(
                try await api.post("\(base)/incidents/\(incident)/confirm", token: soc, ["priority": "P9", "summary": "x"]), .badRequest,
                "bad_request")

            let status = try await api.post("\(base)/incidents/\(incident)/confirm", token: soc, ["priority": "P2", "summary": "x"]).status
            #expect(status == .ok)
            expectProblem(
                try await api.post("\(base)/incidents/\(incident)/confirm", token: soc, ["priority": "P2", "summary": "x"]), .conflict,
                "incident_already_confirmed")
            expectProblem(
                try await api.post("\(base)/devices/srv-01/isolate", token: soc, ["incidentId": incident, "comment": "contain"]), .conflict,
                "device_not_in_incident")
            expectProblem(
                try await api.post("\(base)/devices/ws-0042/isolate", token: soc, ["incidentId": "nope", "comment": "contain"]),
                .unprocessableContent, "invalid_field")
            expectProblem(
                try await api.post("\(base)/devices/ws-0042/release", token: soc, ["reason": "clean"]), .conflict, "device_not_isolated")
            expectProblem(
                try await api.post("\(base)/devices/ws-0042/isolate", token: soc, ["incidentId": incident, "comment": " "]),
                .unprocessableContent, "reason_missing")
        }
    }

    @Test func oversizedBodyIsRefusedWith413() async throws {
        try await APIWorld.run(maxBodyBytes: 1024) { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let signals = (0..<50).map { Fixtures.signal(alert: "big-\($0)") }
            let reply = try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": signals])
            expectProblem(reply, .contentTooLarge, "payload_too_large")
            try await api.expectHead("acme-bv", 1)
            // Under the limit, the same endpoint works.
            let small = try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": [Fixtures.signal(alert: "small")]])
            #expect(small.status == .ok, "\(small.text)")
        }
    }

    @Test func oversizedBodyIsRefusedWith413OverRealHTTP() async throws {
        try await APIWorld.run(.live, maxBodyBytes: 1024) { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let signals = (0..<50).map { Fixtures.signal(alert: "big-\($0)") }
            let reply = try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": signals])
            expectProblem(reply, .contentTooLarge, "payload_too_large")
            // The connection is still usable afterwards.
            let small = try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": [Fixtures.signal(alert: "small")]])
            #expect(small.status == .ok, "\(small.text)")
            try await api.expectHead("acme-bv", 2)
        }
    }

    @Test func unknownRouteIsNotFound() async throws {
        try await APIWorld.run { api in
            expectProblem(try await api.get("/v1/nothing-here", token: try await api.token(.soc)), .notFound, "not_found")
        }
    }
}
