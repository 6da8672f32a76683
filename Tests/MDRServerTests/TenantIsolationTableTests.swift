import Foundation
import HTTPTypes
import MDRApplication
import MDRDomain
import MDRNotify
import MDRServer
import MDRStore
import MDRTestSupport
import Testing
import Yams

/// Tenant isolation and the roles, for every operation of the served OpenAPI document: the table is the document, so
/// an operation added without a refusal fails here. For each operation the roles it allows are read from its summary
/// ("(roles `soc`, `dynamic`, and `customer` of that tenant)"), as the document promises them to API users.
///
/// - An operation under `/v1/tenants/{tenantId}`: a `customer` or `connector` token of tenant A, pointed at tenant B's
///   real resources, gets `404 tenant_not_found` or `403 forbidden`; every role the operation does not allow gets
///   `403` or `404` on its own tenant; the allowed roles are not refused. No refused request appends to A or B.
/// - Any other operation that needs a token works across tenants: tenant-bound roles, and the roles it does not
///   allow, get `403 forbidden`.
@Suite struct TenantIsolationTableTests {
    /// One operation of the document.
    struct Operation: CustomStringConvertible {
        var id: String
        var method: HTTPRequest.Method
        var path: String
        var allowed: Set<Role>
        var hasBody: Bool
        var requiredQuery: [String]
        var description: String { "\(id) (\(method) \(path))" }
        var isTenantScoped: Bool { path.contains("{tenantId}") }
    }

    /// The resources of one tenant that the paths and bodies name.
    struct TenantResources {
        var tenant: String
        var incident: String
        var device: String
        var rule: String
        var notification: String
    }

    /// A minimal valid body for every operation that takes one, keyed by `operationId`: content type and bytes, made
    /// for the tenant the request is sent to. A new operation with a body must be added here.
    static let bodies: [String: @Sendable (TenantResources) -> (String, Data)] = [
        "onboardTenant": { _ in json(APIWorld.onboarding("new-co")) },
        "ingestSignals": { _ in json(["signals": [Fixtures.signal(alert: "isolation-1", device: "ws-0099")]]) },
        "ingestGraphAlerts": { _ in json([GraphAndCEFIngestTests.graphAlerts[0]]) },
        "ingestCEFEvents": { _ in ("text/plain", Data(GraphAndCEFIngestTests.cefLines[0].utf8)) },
        "confirmIncident": { _ in json(["priority": "P2", "summary": "credential theft"]) },
        "dismissIncident": { _ in json(["classification": "false_positive", "reason": "admin script"]) },
        "resolveIncident": { _ in json(["resolution": "reimaged"]) },
        "mergeIncident": { r in json(["into": r.incident, "reason": "same attack"]) },
        "assignIncident": { _ in json(["assignee": "oidc:anna"]) },
        "addIncidentNote": { _ in json(["text": "checked the proxy logs"]) },
        "setOpeningThresholds": { _ in json(["thresholds": [["source": "firewall", "severity": "low"]], "reason": "tuning"]) },
        "isolateDevice": { r in json(["incidentId": r.incident, "comment": "contain"]) },
        "releaseDevice": { _ in json(["reason": "clean"]) },
        "stopAndQuarantineFile": { r in
            json(["incidentId": r.incident, "sha1": "87662bc3d60e4200ceaf7aae249d1c343f4b83c9", "comment": "ransomware binary"])
        },
        "addSuppressionRule": { _ in json(["match": ["ip": "10.9.9.9"], "reason": "scanner"]) },
        "recordHealthCheck": { _ in json(["source": "endpoint", "status": "delivering"]) },
        "handOverToSoc": { _ in json(["tuningDays": 30]) },
        "updateContacts": { _ in json(["afterHoursRoute": ["channel": "email", "address": "it@example.com"]]) },
        "withdrawConsent": { _ in json(["withdrawnBy": "Anna de Vries", "reason": "board decision"]) },
        "giveNotice": { _ in json(["receivedOn": "2026-06-01", "channel": "email"]) },
        "grantConsent": { _ in json(["grantedBy": "Anna de Vries", "grantedOn": "2026-06-01"]) },
        "updateDeviceInventory": { _ in json(["enrol": [["deviceId": "ws-0099", "kind": "workstation"]]]) },
    ]

    /// Values for required query parameters, by name.
    static let queryValues: [String: String] = ["month": "2026-11", "from": "2026-11-01", "to": "2026-11-30"]

    static func json(_ object: Any) -> (String, Data) {
        ("application/json", try! JSONSerialization.data(withJSONObject: object))
    }

    /// The operations of the served document, with the roles their summaries name.
    static func operations(_ document: Data) throws -> [Operation] {
        let root = try #require(try Yams.load(yaml: String(decoding: document, as: UTF8.self)) as? [String: Any])
        let paths = try #require(root["paths"] as? [String: Any])
        let sharedParameters = (root["components"] as? [String: Any])?["parameters"] as? [String: Any] ?? [:]
        // A parameter as written, or the one its `$ref` names (`#/components/parameters/Month`).
        func resolved(_ parameter: [String: Any]) -> [String: Any] {
            guard let ref = parameter["$ref"] as? String, let name = ref.split(separator: "/").last else { return parameter }
            return sharedParameters[String(name)] as? [String: Any] ?? parameter
        }
        var operations: [Operation] = []
        for (path, item) in paths {
            guard let item = item as? [String: Any] else { continue }
            for (key, method) in [("get", HTTPRequest.Method.get), ("post", .post), ("put", .put), ("patch", .patch), ("delete", .delete)] {
                guard let operation = item[key] as? [String: Any] else { continue }
                let id = operation["operationId"] as? String ?? "\(key) \(path)"
                // Public operations (health checks, the document itself) declare `security: []`.
                if let security = operation["security"] as? [Any], security.isEmpty { continue }
                let summary = operation["summary"] as? String ?? ""
                let allowed = Set(Role.allCases.filter { summary.contains("`\($0.rawValue)`") })
                let parameters = ((operation["parameters"] as? [[String: Any]] ?? []) + (item["parameters"] as? [[String: Any]] ?? [])).map(resolved)
                let requiredQuery = parameters.compactMap { p -> String? in
                    (p["in"] as? String == "query" && p["required"] as? Bool == true) ? p["name"] as? String : nil
                }
                operations.append(
                    Operation(
                        id: id, method: method, path: path, allowed: allowed, hasBody: operation["requestBody"] != nil,
                        requiredQuery: requiredQuery))
            }
        }
        return operations.sorted { $0.id < $1.id }
    }

    /// The request URI of `operation` for `resources`; nil (and a recorded issue) for a path parameter or a required
    /// query parameter this test has no value for.
    static func uri(_ operation: Operation, _ resources: TenantResources) -> String? {
        var uri = operation.path
        let values = [
            "tenantId": resources.tenant, "incidentId": resources.incident, "deviceId": resources.device, "ruleId": resources.rule,
            "notificationId": resources.notification, "month": "2026-11",
        ]
        while let open = uri.firstIndex(of: "{"), let close = uri[open...].firstIndex(of: "}") {
            let name = String(uri[uri.index(after: open)..<close])
            guard let value = values[name] else {
                Issue.record("\(operation): no value for the path parameter {\(name)}: add one to TenantIsolationTableTests.uri")
                return nil
            }
            uri.replaceSubrange(open...close, with: value)
        }
        var query: [String] = []
        for name in operation.requiredQuery {
            guard let value = queryValues[name] else {
                Issue.record("\(operation): no value for the required query parameter '\(name)': add one to TenantIsolationTableTests.queryValues")
                return nil
            }
            query.append("\(name)=\(value)")
        }
        // A stream that follows the log never ends: the table reads its catch-up only.
        if ["streamEvents", "streamTenantEvents"].contains(operation.id) { query.append("follow=false") }
        return query.isEmpty ? uri : uri + "?" + query.joined(separator: "&")
    }

    /// Sends `operation` against `resources` with `token`; nil when the test cannot build the request (an issue is
    /// recorded).
    static func send(_ api: APIWorld, _ operation: Operation, _ resources: TenantResources, token: String) async throws -> Reply? {
        guard let uri = uri(operation, resources) else { return nil }
        guard operation.hasBody else { return try await api.send(operation.method, uri, token: token) }
        guard let body = bodies[operation.id] else {
            Issue.record("\(operation) takes a body but TenantIsolationTableTests.bodies has none: add a minimal valid one")
            return nil
        }
        let (contentType, data) = body(resources)
        return try await api.send(operation.method, uri, token: token, raw: data, headers: [(.contentType, contentType)])
    }

    @Test func everyOperationRefusesOtherTenantsAndTheRolesItDoesNotAllow() async throws {
        try await APIWorld.run { api in
            let document = try await api.get("/openapi.yaml", token: nil)
            #expect(document.status == .ok)
            let operations = try Self.operations(document.body)
            let tenantScoped = operations.filter(\.isTenantScoped)
            #expect(tenantScoped.count >= 20, "the document lists too few operations under /v1/tenants/{tenantId}: \(operations)")
            for operation in operations where operation.allowed.isEmpty {
                Issue.record("\(operation): its summary names no role (e.g. \"(roles `soc`, `dynamic`)\")")
            }

            let a = try await Self.resources(api, "acme-bv")
            let b = try await Self.resources(api, "globex")
            var tokens: [Role: String] = [:]
            for role in Role.allCases { tokens[role] = try await api.token(role, role.isTenantScoped ? a.tenant : nil) }
            let heads = { @Sendable () async throws -> [Int64] in
                [try await api.head(a.tenant), try await api.head(b.tenant), try await api.head("new-co")]
            }

            for operation in tenantScoped {
                // A token bound to tenant A, pointed at tenant B's real resources.
                for role in Role.allCases where role.isTenantScoped {
                    let before = try await heads()
                    guard let reply = try await Self.send(api, operation, b, token: tokens[role]!) else { continue }
                    let what: Comment = "\(role.rawValue) of \(a.tenant) → \(operation) of \(b.tenant)"
                    #expect([403, 404].contains(reply.status.code), "\(what): \(reply.text)")
                    #expect(["forbidden", "tenant_not_found"].contains(reply.code ?? ""), "\(what): \(reply.text)")
                    #expect(try await heads() == before, "\(what) appended")
                }
                // The roles the operation does not allow, on their own tenant (any tenant for soc and dynamic).
                for role in Role.allCases where !operation.allowed.contains(role) {
                    let before = try await heads()
                    guard let reply = try await Self.send(api, operation, a, token: tokens[role]!) else { continue }
                    let what: Comment = "\(role.rawValue) → \(operation) of \(a.tenant)"
                    #expect([403, 404].contains(reply.status.code), "\(what): \(reply.text)")
                    #expect(["forbidden", "tenant_not_found"].contains(reply.code ?? ""), "\(what): \(reply.text)")
                    #expect(try await heads() == before, "\(what) appended")
                }
            }

            for operation in operations where !operation.isTenantScoped {
                for role in Role.allCases where role.isTenantScoped || !operation.allowed.contains(role) {
                    let before = try await heads()
                    guard let reply = try await Self.send(api, operation, a, token: tokens[role]!) else { continue }
                    let what: Comment = "\(role.rawValue) → \(operation), across tenants"
                    #expect(reply.status == .forbidden, "\(what): \(reply.text)")
                    #expect(reply.code == "forbidden", "\(what): \(reply.text)")
                    #expect(try await heads() == before, "\(what) appended")
                }
            }

            // The roles an operation allows get past authorization on their own tenant (the domain may still refuse:
            // 404 for a thing not visible to them, 409, 422), so the document's roles are the ones enforced.
            for operation in operations {
                for role in operation.allowed {
                    guard let reply = try await Self.send(api, operation, a, token: tokens[role]!) else { continue }
                    let what: Comment = "\(role.rawValue) → \(operation) of \(a.tenant)"
                    #expect(![401, 403].contains(reply.status.code), "\(what): \(reply.text)")
                    #expect(reply.code != "tenant_not_found", "\(what): \(reply.text)")
                }
            }
        }
    }

    /// Onboards `tenant` with an incident confirmed as P1 (so that it has notifications), a suppression rule and a
    /// device named by a signal.
    static func resources(_ api: APIWorld, _ tenant: String) async throws -> TenantResources {
        try await api.onboard(tenant)
        let incident = try await api.openIncident(tenant, device: "ws-0042")
        let soc = try await api.token(.soc)
        let confirmed = try await api.post(
            "/v1/tenants/\(tenant)/incidents/\(incident)/confirm", token: soc, ["priority": "P1", "summary": "ransomware"])
        #expect(confirmed.status == .ok, "\(confirmed.text)")
        let rule = try await api.post("/v1/tenants/\(tenant)/suppression-rules", token: soc, ["match": ["ip": "10.0.0.1"], "reason": "scanner"])
        #expect(rule.status == .created, "\(rule.text)")
        try await TenantPipeline(
            [
                ProcessManager(
                    Notifier(
                        planner: NotificationPlanner(
                            dynamic: [ContactRoute(channel: .webhook, address: "https://soc-intake.dynamic.example/hooks/mdr")],
                            linkBase: "https://mdr.example"),
                        outbox: NotificationOutbox(database: api.services.database), wake: Wakeup(), time: SystemTime()))
            ],
            store: api.services.store, logger: TestDatabase.logger
        ).drain()
        let listed = try await api.get("/v1/tenants/\(tenant)/notifications", token: soc)
        let notifications = listed.json["notifications"] as? [[String: Any]] ?? []
        // The customer's own notification where there is one (the customer may acknowledge only those).
        let notification = (notifications.first { $0["recipient"] as? String != "dynamic" } ?? notifications.first)?["notificationId"] as? String
        return TenantResources(
            tenant: tenant, incident: incident, device: "ws-0042", rule: try #require(rule.json["ruleId"] as? String),
            notification: try #require(notification, "no notification was made for \(tenant): \(listed.text)"))
    }
}
