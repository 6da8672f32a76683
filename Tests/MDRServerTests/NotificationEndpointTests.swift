import Foundation
import HTTPTypes
import MDRApplication
import MDRDomain
import MDRNotify
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// The notifications API: where each notification stands, and acknowledging one; with tenant isolation and the
/// customer's narrower view.
@Suite struct NotificationEndpointTests {
    func notifications(_ reply: Reply) -> [[String: Any]] { reply.json["notifications"] as? [[String: Any]] ?? [] }

    /// The notifier over the world's log, with one webhook route and one e-mail route to Dynamic.
    static func notifier(_ api: APIWorld) -> TenantPipeline {
        TenantPipeline(
            [
                ProcessManager(
                    Notifier(
                        planner: NotificationPlanner(
                            dynamic: [
                                ContactRoute(channel: .webhook, address: "https://soc-intake.dynamic.example/hooks/mdr"),
                                ContactRoute(channel: .email, address: "soc@dynamic.example"),
                            ], linkBase: "https://mdr.example"),
                        outbox: NotificationOutbox(database: api.services.database), wake: Wakeup(), time: SystemTime()))
            ],
            store: api.services.store, logger: TestDatabase.logger)
    }

    @Test func aConfirmedP1IsListedPerRouteAndCanBeAcknowledgedOnce() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            try await api.onboard("other-co")
            let incident = try await api.openIncident("acme-bv")
            let soc = try await api.token(.soc), dynamic = try await api.token(.dynamic)
            let confirmed = try await api.post("/v1/tenants/acme-bv/incidents/\(incident)/confirm", token: soc, ["priority": "P1", "summary": "ransomware"])
            #expect(confirmed.status == .ok, "\(confirmed.text)")
            let notifier = Self.notifier(api)
            try await notifier.drain()

            let all = try await api.get("/v1/tenants/acme-bv/notifications?incidentId=\(incident)", token: soc)
            #expect(all.status == .ok, "\(all.text)")
            let listed = notifications(all)
            let toDynamic = listed.filter { $0["recipient"] as? String == "dynamic" }
            #expect(Set(toDynamic.compactMap { $0["channel"] as? String }) == ["webhook", "email"])
            #expect(listed.allSatisfy { $0["incidentId"] as? String == incident && $0["status"] as? String == "pending" && $0["priority"] as? String == "P1" })
            // The customer is reached too (primary contact or, outside office hours, a call request to Dynamic).
            #expect(listed.count >= 3)

            // The metrics count them as pending (the confirmation happened now, so they are due and waiting).
            let metrics = try await api.get("/metrics", token: soc)
            let pendingLine = metrics.text.split(separator: "\n").first { $0.hasPrefix(#"mdr_notifications{status="pending"} "#) }
            #expect(pendingLine.flatMap { Int($0.split(separator: " ").last!) } == listed.count, "\(metrics.text)")
            // Undelivered P1 notices that were due at the confirmation: the gauge counts from then.
            let p1Line = metrics.text.split(separator: "\n").first { $0.hasPrefix("mdr_notification_oldest_undelivered_p1_seconds ") }
            #expect(p1Line.flatMap { Double($0.split(separator: " ").last!) }.map { $0 >= 0 } == true, "\(metrics.text)")

            // A customer sees only what was sent to the customer.
            let customer = try await api.token(.customer, "acme-bv")
            let own = try await api.get("/v1/tenants/acme-bv/notifications", token: customer)
            #expect(own.status == .ok)
            #expect(notifications(own).allSatisfy { $0["recipient"] as? String != "dynamic" })
            let dynamicID = try #require(toDynamic.first?["notificationId"] as? String)
            let refused = try await api.post("/v1/tenants/acme-bv/notifications/\(dynamicID)/acknowledge", token: customer, [String: Any]())
            expectProblem(refused, .notFound, "notification_not_found")

            // Dynamic acknowledges; again with the same key is a replay; again without one keeps the first.
            let ack = try await api.post("/v1/tenants/acme-bv/notifications/\(dynamicID)/acknowledge", token: dynamic, [String: Any](), key: "ack-1")
            #expect(ack.status == .ok, "\(ack.text)")
            #expect(ack.json["notificationId"] as? String == dynamicID)
            let by = try #require(ack.json["acknowledgedBy"] as? String)
            let replay = try await api.post("/v1/tenants/acme-bv/notifications/\(dynamicID)/acknowledge", token: dynamic, [String: Any](), key: "ack-1")
            #expect(replay.status == .ok && replay.replayed)
            let again = try await api.post("/v1/tenants/acme-bv/notifications/\(dynamicID)/acknowledge", token: soc, [String: Any]())
            #expect(again.json["acknowledgedBy"] as? String == by)
            try await notifier.drain()
            let after = try await api.get("/v1/tenants/acme-bv/notifications?incidentId=\(incident)", token: soc)
            #expect(notifications(after).first { $0["notificationId"] as? String == dynamicID }?["acknowledgedBy"] as? String == by)

            // Another tenant's customer, an unknown id, a malformed incident id, a connector.
            let other = try await api.token(.customer, "other-co")
            expectProblem(try await api.get("/v1/tenants/acme-bv/notifications", token: other), .notFound, "tenant_not_found")
            expectProblem(
                try await api.post("/v1/tenants/acme-bv/notifications/ntf_unknown/acknowledge", token: dynamic, [String: Any]()), .notFound,
                "notification_not_found")
            expectProblem(try await api.get("/v1/tenants/acme-bv/notifications?incidentId=nope", token: soc), .unprocessableContent, "invalid_field")
            let connector = try await api.token(.connector, "acme-bv")
            expectProblem(try await api.get("/v1/tenants/acme-bv/notifications", token: connector), .forbidden, "forbidden")
        }
    }
}
