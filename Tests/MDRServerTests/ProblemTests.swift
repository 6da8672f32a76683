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

    /// An object that names a key twice is read differently by different parsers: it is refused on every JSON route,
    /// with where it is, and nothing is stored.
    @Test func aKeyNamedTwiceInOneObjectIsABadRequestAndStoresNothing() async throws {
        try await APIWorld.run { api in
            let dynamic = try await api.token(.dynamic)
            let onboarding = String(decoding: try JSONSerialization.data(withJSONObject: APIWorld.onboarding("acme-bv")), as: UTF8.self)
            let twice = #"{"name": "Someone else", "# + onboarding.dropFirst()
            let refused = try await api.send(.post, "/v1/tenants", token: dynamic, raw: Data(twice.utf8))
            expectProblem(refused, .badRequest, "bad_request")
            #expect((refused.json["detail"] as? String)?.hasPrefix("name: the key appears twice") == true, "\(refused.text)")
            try await api.expectHead("acme-bv", 0)

            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let native = #"{"signals": [{"source": "endpoint", "sourceAlertId": "a-1", "severity": "high", "severity": "low", "title": "x", "observedAt": "2026-11-29T10:00:00Z"}]}"#
            let nativeReply = try await api.send(.post, "/v1/tenants/acme-bv/signals", token: connector, raw: Data(native.utf8))
            expectProblem(nativeReply, .badRequest, "bad_request")
            #expect((nativeReply.json["detail"] as? String)?.hasPrefix("signals[0].severity:") == true, "\(nativeReply.text)")
            let graph = #"[{"id": "da-1", "severity": "high", "severity": "informational", "title": "x"}]"#
            expectProblem(try await api.send(.post, "/v1/tenants/acme-bv/signals/graph", token: connector, raw: Data(graph.utf8)), .badRequest, "bad_request")
            let ndjson = "{\"id\": \"da-2\", \"title\": \"x\"}\n{\"id\": \"da-3\", \"id\": \"da-4\"}\n"
            let ndjsonReply = try await api.send(
                .post, "/v1/tenants/acme-bv/signals/graph", token: connector, raw: Data(ndjson.utf8), headers: [(.contentType, "application/x-ndjson")])
            expectProblem(ndjsonReply, .badRequest, "bad_request")
            try await api.expectHead("acme-bv", 1)
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

    /// Every GET with query parameters, as the service's users write them.
    static let queriedPaths = [
        "/v1/tenants/acme-bv/contract", "/v1/billing/2026-11", "/v1/tenants/acme-bv/notifications", "/v1/tenants/acme-bv/events",
        "/v1/incidents", "/v1/tenants/acme-bv/incidents", "/v1/tenants/acme-bv/devices", "/v1/tenants/acme-bv/signal-statistics",
        "/v1/sla/compliance", "/v1/tenants/acme-bv/reports/2026-11", "/v1/tenants/acme-bv/reports", "/v1/tenants/acme-bv/sla/compliance",
        "/v1/sla/timers",
    ]

    /// A query string the runtime cannot read was a 500 on all of them (issue 14), for a customer of another tenant too.
    @Test func aMalformedQueryStringIsABadRequestOnEveryOperation() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let soc = try await api.token(.soc)
            let stranger = try await api.token(.customer, "other-bv")
            for path in Self.queriedPaths {
                for query in ["limit", "&limit=5", "x", "&", "limit=5&&status=open", "=5", "on=%zz", "limit=5&"] {
                    let reply = try await api.get("\(path)?\(query)", token: soc)
                    expectProblem(reply, .badRequest, "bad_request", "\(path)?\(query)")
                    #expect((reply.json["detail"] as? String)?.hasPrefix("query:") == true, "\(path)?\(query): \(reply.text)")
                    expectProblem(try await api.get("\(path)?\(query)", token: stranger), .badRequest, "bad_request", "\(path)?\(query)")
                }
                // An empty query and an unknown parameter are read as no parameter: the request is answered (a 400 only
                // where the operation requires a parameter, never about the query's form).
                for query in ["", "unknown=1"] {
                    let reply = try await api.get("\(path)?\(query)", token: soc)
                    #expect(reply.status.code < 500, "\(path)?\(query): \(reply.text)")
                    #expect((reply.json["detail"] as? String)?.hasPrefix("query:") != true, "\(path)?\(query): \(reply.text)")
                }
            }
            // Still no token, still 401 first.
            expectProblem(try await api.get("/v1/incidents?&", token: nil), .unauthorized, "unauthenticated")
        }
    }

    /// A value that does not suit its parameter names the query, not the body.
    @Test func aQueryValueOfTheWrongTypeIsABadRequestAboutTheQuery() async throws {
        try await APIWorld.run { api in
            let soc = try await api.token(.soc)
            for uri in ["/v1/tenants/acme-bv/events?limit=many", "/v1/incidents?status=sleeping", "/v1/incidents?from=yesterday"] {
                let reply = try await api.get(uri, token: soc)
                expectProblem(reply, .badRequest, "bad_request", "\(uri)")
                #expect((reply.json["detail"] as? String)?.contains("body") == false, "\(uri): \(reply.text)")
            }
        }
    }
}
