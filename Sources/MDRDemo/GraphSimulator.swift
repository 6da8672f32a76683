import Foundation
import HTTPTypes
import Hummingbird
import MDRDomain
import MDRResponse
import NIOCore
import Synchronization

/// A local server that speaks the documented Microsoft Graph security alerts API (`GET /v1.0/security/alerts_v2` with
/// `$filter=lastUpdateDateTime ge …`, `$top` and `@odata.nextLink`) and the identity platform's token endpoint: a
/// tenant's Microsoft 365 Defender for the alerts connector's tests.
///
/// It pages, throttles (`429` with `Retry-After`), fails (`503`), and rotates tokens (every token issued so far stops
/// working) when told to, and records every request.
public final class GraphSimulator: Sendable {
    /// One alert as Graph keeps it (the fields the connector and the parser read).
    public struct Alert: Sendable {
        public var id: String
        public var title: String
        public var severity: String
        public var status: String
        public var device: String
        public var createdDateTime: Date
        public var lastUpdateDateTime: Date

        public init(id: String, title: String = "Suspicious PowerShell command line", severity: String = "high", status: String = "new",
                    device: String = "ws-0042", createdDateTime: Date, lastUpdateDateTime: Date? = nil) {
            self.id = id
            self.title = title
            self.severity = severity
            self.status = status
            self.device = device
            self.createdDateTime = createdDateTime
            self.lastUpdateDateTime = lastUpdateDateTime ?? createdDateTime
        }

        var json: [String: Any] {
            [
                "@odata.type": "#microsoft.graph.security.alert", "id": id, "providerAlertId": id, "status": status, "severity": severity,
                "serviceSource": "microsoftDefenderForEndpoint", "detectionSource": "microsoftDefenderForEndpoint", "title": title,
                "category": "Execution", "mitreTechniques": ["T1059.001"],
                "createdDateTime": Timestamp.format(createdDateTime), "lastUpdateDateTime": Timestamp.format(lastUpdateDateTime),
                "evidence": [["@odata.type": "#microsoft.graph.security.deviceEvidence", "deviceDnsName": device, "mdeDeviceId": "mde-\(device)"]],
            ]
        }
    }

    /// What the next alerts request gets instead of a page.
    public enum Fault: Sendable {
        case throttled(retryAfter: Int)
        case unavailable
    }

    /// One request as the server saw it.
    public struct Recorded: Sendable {
        public var method: String
        /// The path with its query, as sent.
        public var target: String
        public var authorization: String?
    }

    private struct State {
        var alerts: [Alert] = []
        var validTokens: Set<String> = []
        var issued = 0
        var faults: [Fault] = []
        var recorded: [Recorded] = []
        var tokenLifetime = 3599
    }

    public let tenantID: String
    public let clientID: String
    public let clientSecret: String
    private let state = Mutex(State())

    public init(tenantID: String = "contoso-tenant", clientID: String = "mdr-graph-app", clientSecret: String = "Gr4ph~secret-never-logged") {
        self.tenantID = tenantID
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    /// Adds alerts, or replaces those with the same id (an update: give it a later `lastUpdateDateTime`).
    public func put(_ alerts: [Alert]) {
        state.withLock { state in
            for alert in alerts {
                if let i = state.alerts.firstIndex(where: { $0.id == alert.id }) { state.alerts[i] = alert } else { state.alerts.append(alert) }
            }
        }
    }

    public func inject(_ faults: Fault...) { state.withLock { $0.faults += faults } }
    /// Every token issued so far stops working (a rotated secret, a revoked grant, or simply expiry).
    public func expireTokens() { state.withLock { $0.validTokens.removeAll() } }
    /// The lifetime (`expires_in`) of the tokens issued from now on.
    public func issueTokens(lifetime seconds: Int) { state.withLock { $0.tokenLifetime = seconds } }

    public var requests: [Recorded] { state.withLock { $0.recorded } }
    public var alertRequests: [Recorded] { requests.filter { $0.target.hasPrefix("/v1.0/security/alerts_v2") } }
    public var tokenRequests: [Recorded] { requests.filter { $0.target.hasSuffix("/oauth2/v2.0/token") } }

    public func run<T: Sendable>(port: Int = 0, _ body: @Sendable (_ port: Int) async throws -> T) async throws -> T {
        try await LoopbackServer.run(router(), name: "Microsoft Graph simulator", port: port, body)
    }

    /// The credentials that reach this simulator on `port`; another `clientSecret` makes the token endpoint refuse them.
    public func credentials(port: Int, clientSecret: String? = nil) -> EntraAppCredentials {
        EntraAppCredentials(
            baseURL: "http://127.0.0.1:\(port)", authority: "http://127.0.0.1:\(port)", tenantID: tenantID, clientID: clientID,
            clientSecret: clientSecret ?? self.clientSecret, scope: "https://graph.microsoft.com/.default")
    }

    private func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/{tenant}/oauth2/v2.0/token") { request, context in try await self.token(request, context) }
        router.get("/v1.0/security/alerts_v2") { request, _ in try await self.alerts(request) }
        return router
    }

    private func record(_ request: Request) {
        let recorded = Recorded(method: request.method.rawValue, target: request.uri.description, authorization: request.headers[.authorization])
        state.withLock { $0.recorded.append(recorded) }
    }

    private func token(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        record(request)
        let text = String(buffer: try await request.body.collect(upTo: 1 << 16))
        var form: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            form[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        guard context.parameters.get("tenant") == tenantID, form["grant_type"] == "client_credentials", form["client_id"] == clientID,
            form["client_secret"] == clientSecret, form["scope"] == "https://graph.microsoft.com/.default"
        else {
            return Self.json(.unauthorized, #"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#)
        }
        let (token, lifetime) = state.withLock { state -> (String, Int) in
            state.issued += 1
            let token = "graph-token-\(state.issued)"
            state.validTokens.insert(token)
            return (token, state.tokenLifetime)
        }
        return Self.json(.ok, #"{"token_type":"Bearer","expires_in":\#(lifetime),"ext_expires_in":\#(lifetime),"access_token":"\#(token)"}"#)
    }

    private func alerts(_ request: Request) async throws -> Response {
        record(request)
        let authorization = request.headers[.authorization] ?? ""
        let (authorized, fault) = state.withLock { state -> (Bool, Fault?) in
            let ok = authorization.hasPrefix("Bearer ") && state.validTokens.contains(String(authorization.dropFirst(7)))
            return (ok, ok && !state.faults.isEmpty ? state.faults.removeFirst() : nil)
        }
        guard authorized else {
            return Self.json(.unauthorized, #"{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid."}}"#)
        }
        switch fault {
        case .throttled(let seconds)?:
            var response = Self.json(.tooManyRequests, #"{"error":{"code":"TooManyRequests","message":"Too many requests."}}"#)
            response.headers[.retryAfter] = "\(seconds)"
            return response
        case .unavailable?:
            return Self.json(.serviceUnavailable, #"{"error":{"code":"ServiceUnavailable","message":"Service unavailable."}}"#)
        case nil:
            break
        }
        let query = request.uri.queryParameters
        let filter = query["$filter"].map(String.init) ?? ""
        let prefix = "lastUpdateDateTime ge "
        var since = Date.distantPast
        if !filter.isEmpty {
            guard filter.hasPrefix(prefix), let date = Timestamp.parse(String(filter.dropFirst(prefix.count))) else {
                return Self.json(.badRequest, #"{"error":{"code":"BadRequest","message":"Invalid filter clause."}}"#)
            }
            since = date
        }
        let top = min(max(query["$top"].flatMap { Int(String($0)) } ?? 100, 1), 2000)
        let skip = query["$skiptoken"].flatMap { Int(String($0)) } ?? 0
        let matching = state.withLock { $0.alerts }.filter { $0.lastUpdateDateTime >= since }
            .sorted { ($0.lastUpdateDateTime, $0.id) < ($1.lastUpdateDateTime, $1.id) }
        let page = Array(matching.dropFirst(skip).prefix(top))
        var body: [String: Any] = ["@odata.context": "https://graph.microsoft.com/v1.0/$metadata#security/alerts_v2", "value": page.map(\.json)]
        if skip + page.count < matching.count, let host = request.head.authority {
            var next = URLComponents()
            next.scheme = "http"
            next.percentEncodedHost = host.split(separator: ":").first.map(String.init)
            next.port = host.split(separator: ":").last.flatMap { Int($0) }
            next.path = "/v1.0/security/alerts_v2"
            next.queryItems = [
                URLQueryItem(name: "$filter", value: filter), URLQueryItem(name: "$top", value: "\(top)"),
                URLQueryItem(name: "$skiptoken", value: "\(skip + page.count)"),
            ]
            body["@odata.nextLink"] = next.url!.absoluteString.replacingOccurrences(of: "+", with: "%2B")
        }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
