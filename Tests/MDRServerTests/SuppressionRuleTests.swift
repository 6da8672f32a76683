import Foundation
import HTTPTypes
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// Suppression rules per tenant: matching signals are stored and counted, not escalated.
@Suite struct SuppressionRuleTests {
    let rules = "/v1/tenants/acme-bv/suppression-rules"
    let signals = "/v1/tenants/acme-bv/signals"

    @Test func aRuleSuppressesMatchingSignalsUntilItIsExpired() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let soc = try await api.token(.soc)
            let connector = try await api.token(.connector, "acme-bv")

            let added = try await api.post(rules, token: soc, ["match": ["device": "ws-0042", "titleContains": "SUSPICIOUS"], "reason": "admin test box"])
            #expect(added.status == .created, "\(added.text)")
            #expect(added.json["status"] as? String == "active")
            #expect(added.json["reason"] as? String == "admin test box")
            #expect((added.json["addedBy"] as? String)?.isEmpty == false)
            #expect((added.json["match"] as? [String: Any])?["device"] as? String == "ws-0042")
            let ruleID = try #require(added.json["ruleId"] as? String)

            let batch: [String: Any] = ["signals": [Fixtures.signal(alert: "a-1"), Fixtures.signal(alert: "a-2", device: "ws-0043")]]
            let report = try await api.post(signals, token: connector, batch)
            #expect(report.status == .ok, "\(report.text)")
            #expect(report.json["suppressed"] as? Int == 1)
            #expect(report.json["accepted"] as? Int == 1)
            let items = report.json["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["outcome"] as? String } == ["suppressed", "accepted"])
            #expect(items[0]["signalId"] as? String != nil, "a suppressed signal is stored")
            // Onboarding, the rule and both signals.
            try await api.expectHead("acme-bv", 4)

            let expired = try await api.send(.post, "\(rules)/\(ruleID)/expire", token: soc)
            #expect(expired.status == .ok, "\(expired.text)")
            #expect(expired.json["status"] as? String == "expired")
            #expect(expired.json["expiredAt"] as? String != nil)

            let later = try await api.post(signals, token: connector, ["signals": [Fixtures.signal(alert: "a-3")]])
            #expect(later.json["accepted"] as? Int == 1, "\(later.text)")
            #expect(later.json["suppressed"] as? Int == 0)

            let list = try await api.get(rules, token: soc)
            #expect(list.status == .ok, "\(list.text)")
            let listed = list.json["rules"] as? [[String: Any]] ?? []
            #expect(listed.map { $0["ruleId"] as? String } == [ruleID])
            #expect(listed.first?["status"] as? String == "expired")

            expectProblem(try await api.send(.post, "\(rules)/\(ruleID)/expire", token: soc), .conflict, "suppression_rule_expired")
            expectProblem(
                try await api.send(.post, "\(rules)/\(UUID().uuidString.lowercased())/expire", token: soc), .notFound, "suppression_rule_not_found")
            expectProblem(try await api.send(.post, "\(rules)/not-a-uuid/expire", token: soc), .notFound, "suppression_rule_not_found")
        }
    }

    @Test func rulesAreListedNewestFirst() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let soc = try await api.token(.soc)
            let first = try await api.post(rules, token: soc, ["match": ["ip": "10.0.0.1"], "reason": "vulnerability scanner"])
            let second = try await api.post(
                rules, token: soc, ["match": ["source": "firewall", "mitreTechnique": "T1046"], "reason": "port scans", "expiresAt": "2999-01-01T00:00:00Z"])
            #expect(second.status == .created, "\(second.text)")
            let list = try await api.get(rules, token: try await api.token(.dynamic))
            #expect(list.status == .ok, "\(list.text)")
            let ids = (list.json["rules"] as? [[String: Any]] ?? []).map { $0["ruleId"] as? String }
            #expect(ids == [second.json["ruleId"] as? String, first.json["ruleId"] as? String])
        }
    }

    @Test func badRulesAreRefusedAndAppendNothing() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let soc = try await api.token(.soc)
            expectProblem(try await api.post(rules, token: soc, ["match": [String: Any](), "reason": "x"]), .unprocessableContent, "suppression_rule_empty")
            expectProblem(try await api.post(rules, token: soc, ["match": ["ip": "10.0.0.1"]]), .unprocessableContent, "reason_missing")
            expectProblem(try await api.post(rules, token: soc, ["match": ["ip": "10.0.0.1"], "reason": "  "]), .unprocessableContent, "reason_missing")
            expectProblem(
                try await api.post(rules, token: soc, ["match": ["ip": "10.0.0.1"], "reason": "x", "expiresAt": "2020-01-01T00:00:00Z"]),
                .unprocessableContent, "invalid_field")
            expectProblem(
                try await api.post("/v1/tenants/nobody-co/suppression-rules", token: soc, ["match": ["ip": "10.0.0.1"], "reason": "x"]), .notFound,
                "tenant_not_found")
            expectProblem(try await api.get("/v1/tenants/nobody-co/suppression-rules", token: soc), .notFound, "tenant_not_found")
            try await api.expectHead("acme-bv", 1)
        }
    }

    @Test func onlyTheSOCManagesRulesAndCustomersDoNotSeeThem() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            try await api.onboard("globex-nv")
            let body: [String: Any] = ["match": ["ip": "10.0.0.1"], "reason": "scanner"]
            let customer = try await api.token(.customer, "acme-bv")
            expectProblem(try await api.post(rules, token: customer, body), .forbidden, "forbidden")
            expectProblem(try await api.get(rules, token: customer), .forbidden, "forbidden")
            expectProblem(try await api.post(rules, token: try await api.token(.dynamic), body), .forbidden, "forbidden")
            expectProblem(try await api.post(rules, token: try await api.token(.connector, "acme-bv"), body), .forbidden, "forbidden")
            // A connector of another tenant cannot reach this tenant at all.
            let otherConnector = try await api.token(.connector, "globex-nv")
            expectProblem(try await api.post(signals, token: otherConnector, ["signals": [Fixtures.signal(alert: "a-1")]]), .notFound, "tenant_not_found")
            try await api.expectHead("acme-bv", 1)
        }
    }

    @Test func addingARuleIsIdempotent() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let soc = try await api.token(.soc)
            let body: [String: Any] = ["match": ["user": "svc-backup@acme.example"], "reason": "backup account"]
            let first = try await api.post(rules, token: soc, body, key: "rule-1")
            let again = try await api.post(rules, token: soc, body, key: "rule-1")
            #expect(first.status == .created, "\(first.text)")
            #expect(again.status == .created, "\(again.text)")
            #expect(again.replayed)
            #expect(again.json["ruleId"] as? String == first.json["ruleId"] as? String)
            try await api.expectHead("acme-bv", 2)
        }
    }
}
