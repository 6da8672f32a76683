import Foundation
import HTTPTypes
import HummingbirdTesting
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// Two requests with the same `Idempotency-Key` sent at once (a client retrying after a timeout while its first request
/// is still running) get the same outcome: one carries the command out, the other replays it (`Idempotent-Replayed`),
/// never a refusal that the first request's own effect caused. Every command route, on one instance and on two
/// instances over one database.
@Suite struct ConcurrentIdempotencyTests {
    /// Sends the same request with one new key through `first` and `second` at once and checks that both answers are
    /// the same success, one of them replayed, and that the log holds the command's events once.
    @discardableResult
    static func pair(
        _ first: APIWorld, _ second: APIWorld, _ tenant: String, _ path: String, token: String, json: Any? = nil, cef: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Reply {
        let key = UUID().uuidString
        let before = try await first.head(tenant)
        var headers: [(HTTPField.Name, String)] = [(.idempotencyKey, key)]
        if cef != nil { headers.append((.contentType, "text/plain")) }
        let raw = try cef.map { Data($0.utf8) } ?? JSONSerialization.data(withJSONObject: json ?? [String: Any]())
        async let one = first.send(.post, path, token: token, raw: raw, headers: headers)
        async let other = second.send(.post, path, token: token, raw: raw, headers: headers)
        let (a, b) = try await (one, other)
        let what = Comment(rawValue: "POST \(path)\n\(a.text)\n\(b.text)")
        #expect(a.status.kind == .successful && a.status == b.status, what, sourceLocation: sourceLocation)
        #expect([a, b].filter(\.replayed).count == 1, what, sourceLocation: sourceLocation)
        #expect(a.body == b.body, what, sourceLocation: sourceLocation)

        // The events appended meanwhile are the command's, once.
        let id = TenantID(rawValue: tenant)!
        let appended = try await first.services.store.readLog(tenant: id, after: before, limit: 1000)
        #expect(appended.allSatisfy { $0.metadata.commandID == key }, what, sourceLocation: sourceLocation)
        let stored = try #require(try await first.services.store.storedCommand(tenant: id, id: key), what, sourceLocation: sourceLocation)
        #expect(appended.map(\.position) == Array((stored.firstPosition ?? 1)..<((stored.lastPosition ?? 0) + 1)), what, sourceLocation: sourceLocation)
        return a
    }

    /// The whole round of command routes, each sent twice at once through `first` and `second`, on `tenant`.
    static func everyCommandTwiceAtOnce(_ first: APIWorld, _ second: APIWorld, tenant: String) async throws {
        let base = "/v1/tenants/\(tenant)"
        let dynamic = try await first.token(.dynamic), soc = try await first.token(.soc)
        let connector = try await first.token(.connector, tenant)
        func pair(_ path: String, _ token: String, _ json: Any? = nil, cef: String? = nil, sourceLocation: SourceLocation = #_sourceLocation)
            async throws -> Reply
        {
            try await Self.pair(first, second, tenant, path, token: token, json: json, cef: cef, sourceLocation: sourceLocation)
        }

        // Onboarding and the contract.
        try await pair("/v1/tenants", dynamic, APIWorld.onboarding(tenant, package: "veilig"))
        for source in ["endpoint", "microsoft365", "firewall", "antivirus"] {
            try await pair("\(base)/health-checks", dynamic, ["source": source, "status": "delivering", "missing": [String]()])
        }
        for step in ["roll-out", "hand-over", "monitoring/activate"] {
            try await pair("\(base)/\(step)", dynamic, [String: Any]())
        }
        try await pair("\(base)/contacts", dynamic, ["primaryContact": ["name": "Piet Jansen", "email": "piet@\(tenant).example"]])
        try await pair("\(base)/device-inventory", connector, ["enrol": [["deviceId": "ws-7001", "kind": "workstation"]]])

        // Signals in the three forms.
        try await pair("\(base)/signals", connector, ["signals": [Fixtures.signal(alert: "da-1", device: "ws-0100")]])
        try await pair("\(base)/signals/graph", connector, GraphAndCEFIngestTests.graphAlerts)
        try await pair("\(base)/signals/cef", connector, cef: GraphAndCEFIngestTests.cefLines.joined(separator: "\n"))

        // Suppression rules.
        let rule = try await pair("\(base)/suppression-rules", soc, ["match": ["device": "scanner-1"], "reason": "vulnerability scanner"])
        let ruleID = try #require(rule.json["ruleId"] as? String, "\(rule.text)")
        try await pair("\(base)/suppression-rules/\(ruleID)/expire", soc, [String: Any]())
        try await pair(
            "\(base)/correlation/opening-thresholds", soc, ["thresholds": [["source": "firewall", "severity": "low"]], "reason": "tuning period"])

        // An incident confirmed, a device isolated and released, a file quarantined, the incident resolved.
        let confirmed = try await first.openIncident(tenant, device: "ws-7001", alert: "da-2")
        try await pair("\(base)/incidents/\(confirmed)/confirm", soc, ["priority": "P1", "summary": "Ransomware on ws-7001"])
        // Dynamic acknowledges the P1 notice it was sent.
        try await NotificationEndpointTests.notifier(first).drain()
        let notices = try await first.get("\(base)/notifications?incidentId=\(confirmed)", token: soc).json["notifications"] as? [[String: Any]] ?? []
        let notice = try #require(notices.first { $0["recipient"] as? String == "dynamic" }?["notificationId"] as? String, "\(notices)")
        try await pair("\(base)/notifications/\(notice)/acknowledge", dynamic, [String: Any]())
        try await pair("\(base)/devices/ws-7001/isolate", soc, ["incidentId": confirmed, "comment": "contain the ransomware"])
        try await pair("\(base)/devices/ws-7001/release", soc, ["reason": "reimaged"])
        try await pair(
            "\(base)/devices/ws-7001/stop-and-quarantine", soc,
            ["incidentId": confirmed, "sha1": "87662BC3D60E4200CEAF7AAE249D1C343F4B83C9", "comment": "ransomware binary"])
        try await pair("\(base)/incidents/\(confirmed)/resolve", soc, ["resolution": "reimaged"])
        // Another incident, dismissed.
        let dismissed = try await first.openIncident(tenant, device: "ws-7002", alert: "da-3")
        try await pair("\(base)/incidents/\(dismissed)/dismiss", soc, ["classification": "false_positive", "reason": "admin's own test"])
        // Two candidates merged into one.
        let kept = try await first.openIncident(tenant, device: "ws-7003", alert: "da-4")
        let merged = try await first.openIncident(tenant, device: "ws-7004", alert: "da-5")
        try await pair("\(base)/incidents/\(merged)/merge", soc, ["into": kept, "reason": "one intruder"])
        try await pair("\(base)/incidents/\(kept)/assign", soc, ["assignee": "oidc:anna"])
        try await pair("\(base)/incidents/\(kept)/notes", soc, ["text": "checked the proxy logs"])

        // Consent withdrawn and given again; notice given.
        try await pair("\(base)/consent/withdraw", dynamic, ["withdrawnBy": "Anna de Vries", "reason": "the board decides on isolations"])
        try await pair("\(base)/consent", dynamic, ["grantedBy": "Anna de Vries", "grantedOn": "2026-11-01"])
        try await pair("\(base)/contract/notice", dynamic, ["receivedOn": "2026-10-31", "channel": "email"])
    }

    @Test func onOneInstanceEveryCommandSentTwiceAtOnceIsCarriedOutOnceAndReplayed() async throws {
        try await APIWorld.run { api in
            try await Self.everyCommandTwiceAtOnce(api, api, tenant: "acme-bv")
        }
    }

    @Test func onTwoInstancesEveryCommandSentTwiceAtOnceIsCarriedOutOnceAndReplayed() async throws {
        try await TestDatabase.withDatabase { database, config in
            let configuration = ServerConfiguration(database: config)
            let firstServices = AppServices(database: database)
            let first = try MDRServerApp.buildApplication(services: firstServices, configuration: configuration, logger: TestDatabase.logger)
            let pool = Database(config, logger: TestDatabase.logger)
            let secondServices = AppServices(database: pool)
            let second = try MDRServerApp.buildApplication(services: secondServices, configuration: configuration, logger: TestDatabase.logger)
            try await withThrowingTaskGroup(of: Void.self) { pools in
                pools.addTask { await pool.run() }
                defer { pools.cancelAll() }
                try await first.test(.router) { one in
                    try await second.test(.router) { other in
                        try await Self.everyCommandTwiceAtOnce(
                            APIWorld(services: firstServices, client: one), APIWorld(services: secondServices, client: other), tenant: "acme-bv")
                    }
                }
            }
        }
    }
}
