import Foundation
import HTTPTypes
import MDRDomain
import Testing

/// Onboarding steps 2–5, contacts, consent and the contract over HTTP (DOMAIN.md, "Onboarding", "Contract").
@Suite struct OnboardingEndpointTests {
    static let base = "/v1/tenants/acme-bv"

    static func check(_ source: String, _ status: String = "delivering", missing: [String] = []) -> [String: Any] {
        ["source": source, "status": status, "missing": missing]
    }

    @Test func theOnboardingStepsRunInOrderAndTheTenantShowsThem() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let dynamic = try await api.token(.dynamic)
            let fresh = try await api.get(Self.base, token: dynamic)
            #expect((fresh.json["onboarding"] as? [String: Any])?["phase"] as? String == "onboarded", "\(fresh.text)")

            for source in ["endpoint", "firewall", "antivirus"] {
                let reply = try await api.post("\(Self.base)/health-checks", token: dynamic, Self.check(source))
                #expect(reply.status == .ok, "\(reply.text)")
            }
            let missing = try await api.post("\(Self.base)/health-checks", token: dynamic, Self.check("microsoft365", "missing", missing: ["mail"]))
            #expect(missing.status == .ok, "\(missing.text)")

            // Not every source delivers: the roll-out is refused, naming the one missing, and nothing is written.
            var head = try await api.head("acme-bv")
            let early = try await api.post("\(Self.base)/roll-out", token: dynamic, [:])
            expectProblem(early, .conflict, "sources_missing")
            #expect((early.json["detail"] as? String)?.contains("microsoft365") == true, "\(early.text)")
            let handOverEarly = try await api.post("\(Self.base)/hand-over", token: dynamic, [:])
            expectProblem(handOverEarly, .conflict, "roll_out_not_completed")
            let activeEarly = try await api.post("\(Self.base)/monitoring/activate", token: dynamic, [:])
            expectProblem(activeEarly, .conflict, "not_handed_over")
            try await api.expectHead("acme-bv", head, "a refused step appends nothing")

            #expect(try await api.post("\(Self.base)/health-checks", token: dynamic, Self.check("microsoft365")).status == .ok)
            let rolledOut = try await api.post("\(Self.base)/roll-out", token: dynamic, [:], key: "roll-out-1")
            #expect(rolledOut.status == .ok, "\(rolledOut.text)")
            head = try await api.head("acme-bv")
            let replay = try await api.post("\(Self.base)/roll-out", token: dynamic, [:], key: "roll-out-1")
            #expect(replay.status == .ok && replay.replayed, "\(replay.text)")
            expectProblem(try await api.post("\(Self.base)/roll-out", token: dynamic, [:]), .conflict, "roll_out_already_completed")
            try await api.expectHead("acme-bv", head)

            let handedOver = try await api.post("\(Self.base)/hand-over", token: dynamic, ["tuningDays": 14])
            #expect(handedOver.status == .ok, "\(handedOver.text)")
            let active = try await api.post("\(Self.base)/monitoring/activate", token: dynamic, [:])
            #expect(active.status == .ok, "\(active.text)")

            let customer = try await api.token(.customer, "acme-bv")
            let read = try await api.get(Self.base, token: customer)
            let onboarding = try #require(read.json["onboarding"] as? [String: Any], "\(read.text)")
            #expect(onboarding["phase"] as? String == "monitoring_active")
            #expect(onboarding["tuningDays"] as? Int == 14)
            #expect(onboarding["monitoringActiveSince"] is String)
            #expect(onboarding["tuningEndsAt"] is String)
            let checks = onboarding["healthChecks"] as? [[String: Any]] ?? []
            #expect(checks.map { $0["source"] as? String } == ["endpoint", "microsoft365", "firewall", "antivirus"])
            #expect(checks.allSatisfy { $0["status"] as? String == "delivering" })
        }
    }

    @Test func onboardingStepsAreRefusedForOtherRolesUnknownTenantsAndBadInput() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let head = try await api.head("acme-bv")
            let dynamic = try await api.token(.dynamic)
            let soc = try await api.token(.soc)
            let customer = try await api.token(.customer, "acme-bv")

            expectProblem(try await api.post("\(Self.base)/health-checks", token: soc, Self.check("endpoint")), .forbidden, "forbidden")
            expectProblem(try await api.post("\(Self.base)/roll-out", token: customer, [:]), .forbidden, "forbidden")
            expectProblem(
                try await api.post("/v1/tenants/nobody/health-checks", token: dynamic, Self.check("endpoint")), .notFound, "tenant_not_found")
            expectProblem(
                try await api.post("\(Self.base)/health-checks", token: dynamic, Self.check("endpoint", "delivering", missing: ["sensor"])),
                .unprocessableContent, "invalid_field")
            expectProblem(try await api.post("\(Self.base)/hand-over", token: dynamic, ["tuningDays": 0]), .conflict, "roll_out_not_completed")
            try await api.expectHead("acme-bv", head, "no refused request appends")
        }
    }

    @Test func theContractLookupGivesTermPhaseAndTheEndDateAfterNotice() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")  // contract start 2026-01-01, Compliant
            let dynamic = try await api.token(.dynamic)
            let customer = try await api.token(.customer, "acme-bv")

            let initial = try await api.get("\(Self.base)/contract?on=2026-06-01", token: customer)
            #expect(initial.status == .ok, "\(initial.text)")
            #expect(initial.json["package"] as? String == "compliant")
            #expect(initial.json["mdrStatus"] as? String == "included")
            #expect(initial.json["sla"] as? String == "A")
            #expect(initial.json["start"] as? String == "2026-01-01")
            #expect(initial.json["initialTermEnd"] as? String == "2027-01-01")
            #expect(initial.json["phase"] as? String == "initial")
            #expect(initial.json["endDate"] == nil)
            #expect(try await api.get("\(Self.base)/contract?on=2027-01-01", token: customer).json["phase"] as? String == "indefinite")
            let today = try await api.get("\(Self.base)/contract", token: customer)
            #expect(today.status == .ok && today.json["on"] is String, "\(today.text)")

            // Notice is recorded once received: a date after today is refused.
            expectProblem(
                try await api.post("\(Self.base)/contract/notice", token: dynamic, ["receivedOn": "2999-03-31", "channel": "email"]),
                .unprocessableContent, "notice_in_future")
            // Notice received yesterday, recorded today (Amsterdam dates).
            let day = BusinessClock.standard.localDate(of: Date())
            let yesterday = day.adding(days: -1)
            let notice = try await api.post("\(Self.base)/contract/notice", token: dynamic, ["receivedOn": yesterday.description, "channel": "email"])
            #expect(notice.status == .ok, "\(notice.text)")
            let end = Contract.endDate(initialTermEnd: CalendarDate("2027-01-01")!, noticeReceivedOn: yesterday)
            let under = try await api.get("\(Self.base)/contract?on=\(day)", token: customer)
            #expect(under.json["phase"] as? String == "under_notice", "\(under.text)")
            #expect(under.json["noticeReceivedOn"] as? String == yesterday.description)
            #expect(under.json["noticeChannel"] as? String == "email")
            #expect(under.json["endDate"] as? String == end.description, "the later of the initial term end and the notice + 1 month")
            #expect(try await api.get("\(Self.base)/contract?on=\(end)", token: customer).json["phase"] as? String == "ended")
            // As of yesterday the notice was not known yet (recorded today): no notice, no end date.
            let asOfYesterday = try await api.get("\(Self.base)/contract?on=\(yesterday)", token: customer)
            #expect(asOfYesterday.json["noticeReceivedOn"] == nil && asOfYesterday.json["endDate"] == nil, "\(asOfYesterday.text)")
            #expect(["initial", "indefinite"].contains(asOfYesterday.json["phase"] as? String ?? ""))

            let head = try await api.head("acme-bv")
            expectProblem(
                try await api.post("\(Self.base)/contract/notice", token: dynamic, ["receivedOn": "2027-05-01", "channel": "letter"]), .conflict,
                "notice_already_given")
            expectProblem(try await api.get("\(Self.base)/contract?on=2027-02-30", token: customer), .unprocessableContent, "invalid_field")
            expectProblem(
                try await api.post("\(Self.base)/contract/notice", token: customer, ["receivedOn": "2027-05-01", "channel": "letter"]), .forbidden,
                "forbidden")
            try await api.expectHead("acme-bv", head)

            try await api.onboard("globex")
            expectProblem(try await api.get("/v1/tenants/globex/contract", token: customer), .notFound, "tenant_not_found")
            expectProblem(
                try await api.post("/v1/tenants/globex/contract/notice", token: dynamic, ["receivedOn": "2025-12-31", "channel": "letter"]),
                .unprocessableContent, "notice_before_contract_start")
            try await api.expectHead("globex", 1)
        }
    }

    @Test func contactsAreReplacedAfterValidation() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let dynamic = try await api.token(.dynamic)
            let head = try await api.head("acme-bv")
            expectProblem(
                try await api.post("\(Self.base)/contacts", token: dynamic, ["primaryContact": ["name": "Piet", "email": "not-an-address"]]),
                .unprocessableContent, "invalid_contact")
            expectProblem(try await api.post("\(Self.base)/contacts", token: dynamic, [:]), .unprocessableContent, "invalid_field")
            try await api.expectHead("acme-bv", head)

            let route = ["channel": "webhook", "address": "https://it.acme.example/hooks/mdr", "note": "on-call"]
            let updated = try await api.post("\(Self.base)/contacts", token: dynamic, ["afterHoursRoute": route])
            #expect(updated.status == .ok, "\(updated.text)")
            try await api.expectHead("acme-bv", head + 1)
            let read = try await api.get(Self.base, token: dynamic)
            #expect((read.json["afterHoursRoute"] as? [String: Any])?["address"] as? String == "https://it.acme.example/hooks/mdr")
            #expect((read.json["primaryContact"] as? [String: Any])?["name"] as? String == "Anna de Vries", "unchanged")
        }
    }

    @Test func afterConsentIsWithdrawnIsolationIsRefused() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let incident = try await api.openIncident("acme-bv")
            let soc = try await api.token(.soc)
            let dynamic = try await api.token(.dynamic)
            let confirmed = try await api.post("\(Self.base)/incidents/\(incident)/confirm", token: soc, ["priority": "P1", "summary": "ransomware"])
            #expect(confirmed.status == .ok, "\(confirmed.text)")

            expectProblem(
                try await api.post("\(Self.base)/consent/withdraw", token: dynamic, ["withdrawnBy": "Anna de Vries", "reason": " "]),
                .unprocessableContent, "reason_missing")
            let withdrawn = try await api.post(
                "\(Self.base)/consent/withdraw", token: dynamic, ["withdrawnBy": "Anna de Vries", "reason": "board decision"])
            #expect(withdrawn.status == .ok, "\(withdrawn.text)")
            #expect(withdrawn.json["consent"] == nil, "\(withdrawn.text)")

            let head = try await api.head("acme-bv")
            let isolate = try await api.post(
                "\(Self.base)/devices/ws-0042/isolate", token: soc, ["incidentId": incident, "comment": "contain the ransomware"])
            expectProblem(isolate, .conflict, "consent_missing")
            expectProblem(
                try await api.post("\(Self.base)/consent/withdraw", token: dynamic, ["withdrawnBy": "Anna de Vries", "reason": "again"]), .conflict,
                "consent_already_withdrawn")
            try await api.expectHead("acme-bv", head)

            // The customer gives its consent again: isolation is allowed again.
            let consent = ["grantedBy": "Anna de Vries", "grantedOn": "2026-11-01"]
            expectProblem(try await api.post("\(Self.base)/consent", token: soc, consent), .forbidden, "forbidden")
            let granted = try await api.post("\(Self.base)/consent", token: dynamic, consent)
            #expect(granted.status == .ok, "\(granted.text)")
            #expect((granted.json["consent"] as? [String: Any])?["grantedOn"] as? String == "2026-11-01", "\(granted.text)")
            expectProblem(try await api.post("\(Self.base)/consent", token: dynamic, consent), .conflict, "consent_already_on_file")
            let again = try await api.post(
                "\(Self.base)/devices/ws-0042/isolate", token: soc, ["incidentId": incident, "comment": "contain the ransomware"])
            #expect(again.status == .accepted, "\(again.text)")
        }
    }
}
