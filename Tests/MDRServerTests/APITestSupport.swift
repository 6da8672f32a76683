import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MDRApplication
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import NIOCore
import ServiceLifecycle
import Testing

/// One test's world: a fresh migrated database, the services over it, and a client of the HTTP application.
struct APIWorld: Sendable {
    let services: AppServices
    let client: any TestClientProtocol

    /// Runs `body` against the application built exactly as `MDRServerApp` builds it, over a database of its own.
    /// `.router` drives the router in-process; `.live` goes over real loopback HTTP.
    static func run<T: Sendable>(
        _ setup: TestingSetup = .router, maxBodyBytes: Int = 8 << 20,
        configure: @escaping @Sendable (inout ServerConfiguration) -> Void = { _ in },
        background: @escaping @Sendable (AppServices) -> [any Service] = { _ in [] },
        _ body: @escaping @Sendable (APIWorld) async throws -> T
    ) async throws -> T {
        try await TestDatabase.withDatabase { database, config in
            let services = AppServices(database: database)
            var configuration = ServerConfiguration(database: config, maxBodyBytes: maxBodyBytes)
            configure(&configuration)
            let app = try MDRServerApp.buildApplication(
                services: services, configuration: configuration, logger: TestDatabase.logger, backgroundServices: background(services))
            return try await app.test(setup) { client in
                try await body(APIWorld(services: services, client: client))
            }
        }
    }

    // MARK: Tokens

    /// A new bearer token of `role` (bound to `tenant` for customer and connector).
    func token(_ role: Role, _ tenant: String? = nil, expiresAt: Date? = nil) async throws -> String {
        try await services.tokens.create(
            name: "\(role.rawValue) \(tenant ?? "all")", role: role, tenant: tenant.flatMap(TenantID.init(rawValue:)), expiresAt: expiresAt
        ).1
    }

    // MARK: Requests

    func send(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: Any? = nil, raw: Data? = nil,
        headers extra: [(HTTPField.Name, String)] = []
    ) async throws -> Reply {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: raw)
        }
        for (name, value) in extra { headers[name] = value }
        let response = try await client.executeRequest(uri: uri, method: method, headers: headers, body: body)
        return Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
    }

    func get(_ uri: String, token: String?) async throws -> Reply {
        try await send(.get, uri, token: token)
    }

    func post(_ uri: String, token: String?, _ json: Any, key: String? = nil) async throws -> Reply {
        try await send(.post, uri, token: token, json: json, headers: key.map { [(.idempotencyKey, $0)] } ?? [])
    }

    // MARK: Scenario steps

    /// Onboards `tenant` through the API with a fresh `dynamic` token; expects 201.
    @discardableResult
    func onboard(_ tenant: String, _ body: [String: Any]? = nil) async throws -> Reply {
        let reply = try await post("/v1/tenants", token: try await token(.dynamic), body ?? Self.onboarding(tenant))
        #expect(reply.status == .created, "onboarding \(tenant): \(reply.text)")
        return reply
    }

    /// Ingests one high-severity endpoint signal about `device`, runs the correlator until it is
    /// done, and returns the id of the incident the signal opened (through the event log API).
    func openIncident(_ tenant: String, device: String = "ws-0042", alert: String = "da-0001") async throws -> String {
        let connector = try await token(.connector, tenant)
        let reply = try await post("/v1/tenants/\(tenant)/signals", token: connector, ["signals": [Fixtures.signal(alert: alert, device: device)]])
        #expect(reply.status == .ok, "ingest: \(reply.text)")
        try await TenantPipeline([ProcessManager(CorrelationProcessor())], store: services.store, logger: TestDatabase.logger).drain()
        let events = try await services.store.readLog(tenant: TenantID(rawValue: tenant)!, after: 0, limit: 1000, types: ["IncidentOpened"])
        let opened = try #require(events.last, "no incident was opened")
        let data = try #require(try JSONSerialization.jsonObject(with: Data(opened.data.utf8)) as? [String: Any])
        return try #require(data["incidentID"] as? String)
    }

    /// The tenant's last position in the log (0 when nothing was ever appended).
    func head(_ tenant: String) async throws -> Int64 {
        try await services.store.head(tenant: TenantID(rawValue: tenant)!)
    }

    /// A complete onboarding body; tests remove or change one thing.
    static func onboarding(_ tenant: String, package: String = "compliant") -> [String: Any] {
        var body: [String: Any] = [
            "tenantId": tenant, "name": "Tenant \(tenant)", "package": package, "contractStart": "2026-01-01",
            "primaryContact": ["name": "Anna de Vries", "email": "anna@\(tenant).example", "phone": "+31 20 123 4567"],
            "afterHoursRoute": ["channel": "phone", "address": "+31 6 1234 5678", "note": "on-call IT, 24/7"],
            "consent": ["grantedBy": "Anna de Vries", "grantedOn": "2026-01-01"],
            "nis2InScope": true,
        ]
        if package == "veilig" { body["pricePerWorkstationCents"] = 850 }
        return body
    }
}

/// An HTTP answer, with its body read as JSON where that is convenient.
struct Reply: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: Data

    var text: String { "\(status.code) \(String(decoding: body, as: UTF8.self))" }
    var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
    /// The problem's `code`, for error answers.
    var code: String? { json["code"] as? String }
    var replayed: Bool { headers[.idempotentReplayed] == "true" }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    static let correlationID = HTTPField.Name("X-Correlation-ID")!
}

extension Data {
    init(buffer: ByteBuffer) {
        self.init(buffer.readableBytesView)
    }
}

/// Checks that an answer is a problem with `status` and `code`, shaped as RFC 9457 says.
func expectProblem(
    _ reply: Reply, _ status: HTTPResponse.Status, _ code: String, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(reply.status == status, "\(comment ?? "") \(reply.text)", sourceLocation: sourceLocation)
    #expect(reply.code == code, "\(comment ?? "") \(reply.text)", sourceLocation: sourceLocation)
    #expect(reply.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
    let json = reply.json
    #expect(json["type"] as? String == "urn:mdr:problem:\(code)", sourceLocation: sourceLocation)
    #expect(json["status"] as? Int == Int(status.code), sourceLocation: sourceLocation)
    #expect((json["title"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
    #expect((json["detail"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
}

extension APIWorld {
    /// Checks the tenant's last position (that a refused or repeated command appended nothing).
    func expectHead(
        _ tenant: String, _ expected: Int64, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let head = try await head(tenant)
        #expect(head == expected, comment, sourceLocation: sourceLocation)
    }
}

/// Waits until `condition` holds, looking again every 20 ms, for at most `bound` (generous: a loaded machine is slow, and
/// the bound only ends a test that would otherwise hang).
func waitUntil(
    _ what: Comment = "the condition", bound: Duration = .seconds(90), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock(), giveUp = clock.now + bound
    while clock.now < giveUp {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("\(what) did not hold within \(bound)", sourceLocation: sourceLocation)
}
