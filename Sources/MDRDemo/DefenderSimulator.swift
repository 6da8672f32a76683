import Foundation
import HTTPTypes
import Hummingbird
import MDRResponse
import NIOCore
import Logging
import ServiceLifecycle
import Synchronization

/// A local server that speaks the documented Defender for Endpoint API and the identity platform's token endpoint:
/// the tenant's Defender in `mdr demo`, and the Defender the responder's tests talk to.
///
/// It records every request and can be told to misbehave: answer slowly, fail with 500, throttle with 429 and
/// `Retry-After`, refuse with 400 "already in progress", or treat the current tokens as expired. Machine actions walk
/// through a script of statuses (by default Pending, InProgress, Succeeded), one step per status request, so the
/// responder sees an action progress as it would in Defender.
public final class DefenderSimulator: Sendable {
    /// One request as the server saw it.
    public struct Recorded: Sendable {
        public var method: String
        public var path: String
        public var authorization: String?
        public var contentType: String?
        public var json: [String: String]?
        public var form: [String: String]?
    }

    /// What the next API call (not the token call) should get instead of a normal answer.
    public enum Fault: Sendable {
        case serverError
        case tooManyRequests(retryAfter: Int)
        case alreadyInProgress
        case unauthorized
    }

    /// A machine action as Defender keeps it.
    public struct Action: Sendable {
        public var id: String
        public var machine: String
        public var type: String
        public var requestorComment: String
        public var created: Date
        var script: [EDRActionStatus]
        var step = 0
        public var status: EDRActionStatus { script[step] }
    }

    private struct State {
        var validTokens: Set<String> = []
        var issued = 0
        var faults: [Fault] = []
        var delay: Duration = .zero
        var script: [EDRActionStatus] = [.pending, .inProgress, .succeeded]
        /// Every action, in creation order (for `GET /api/machineactions?$filter=`).
        var actions: [Action] = []
        /// Machines by DNS name (for `GET /api/machines?$filter=computerDnsName eq '…'`).
        var machines: [String: String] = [:]
        var recorded: [Recorded] = []
        /// How many of the next created actions lose their answer.
        var answersToLose = 0

        mutating func create(machine: String, type: String, comment: String) -> Action {
            // Creation times strictly increase, as the order of the list depends on them.
            var created = Date()
            if let last = actions.last?.created, created <= last { created = last.addingTimeInterval(0.001) }
            let action = Action(id: UUID().uuidString.lowercased(), machine: machine, type: type, requestorComment: comment, created: created, script: script)
            actions.append(action)
            return action
        }
    }

    /// The Entra ID tenant the token endpoint answers for.
    public let tenantID: String
    /// The app registration's client id.
    public let clientID: String
    /// The app registration's secret; any other is refused as Entra ID refuses it.
    public let clientSecret: String
    private let state = Mutex(State())

    public init(tenantID: String = "contoso-tenant", clientID: String = "mdr-app", clientSecret: String = "S3cr3t~value-never-logged") {
        self.tenantID = tenantID
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    // MARK: Instructions

    /// The next API calls fail in this order.
    public func inject(_ faults: Fault...) { state.withLock { $0.faults += faults } }
    /// Every API call waits this long before answering.
    public func answerSlowly(after delay: Duration) { state.withLock { $0.delay = delay } }
    /// Actions created from now on walk through these statuses, one per status request (the last one stays).
    public func driveNewActions(through script: [EDRActionStatus]) { state.withLock { $0.script = script } }
    /// Defender knows a machine with this id under this DNS name.
    public func addMachine(id: String, dnsName: String) { state.withLock { $0.machines[dnsName.lowercased()] = id } }
    /// An action of `type` is already running on `machine` (started elsewhere, e.g. in the portal); returns its id.
    @discardableResult
    public func startAction(machine: String, type: String, comment: String = "started in the portal") -> String {
        state.withLock { $0.create(machine: machine, type: type, comment: comment).id }
    }
    /// Every machine action created so far, in creation order.
    public var actions: [Action] { state.withLock { $0.actions } }
    /// The next `count` actions are created, but their answer is lost (a 500, as a gateway reports a dropped
    /// connection): the caller cannot know that Defender has the action.
    public func loseAnswersOfNextActions(_ count: Int = 1) { state.withLock { $0.answersToLose += count } }
    /// Every token issued so far is now expired.
    public func expireTokens() { state.withLock { $0.validTokens.removeAll() } }

    /// Every request so far, token requests included, in arrival order.
    public var requests: [Recorded] { state.withLock { $0.recorded } }
    /// The requests to the token endpoint.
    public var tokenRequests: [Recorded] { requests.filter { $0.path.hasSuffix("/oauth2/v2.0/token") } }
    /// The requests to the Defender API (`/api/…`).
    public var apiRequests: [Recorded] { requests.filter { $0.path.hasPrefix("/api/") } }

    // MARK: Server

    /// Runs the server on a loopback port (`port`, or an ephemeral one) for the duration of `body`, which gets the
    /// port; the server stops when `body` returns or throws.
    public func run<T: Sendable>(port: Int = 0, _ body: @Sendable (_ port: Int) async throws -> T) async throws -> T {
        try await LoopbackServer.run(router(), name: "Defender for Endpoint simulator", port: port, body)
    }

    /// The credentials that reach this simulator on `port` (register them with `EDRConnectionStore.set`); another
    /// `clientSecret` makes the token endpoint refuse them.
    public func credentials(port: Int, clientSecret: String? = nil) -> DefenderCredentials {
        DefenderCredentials(
            baseURL: "http://127.0.0.1:\(port)", authority: "http://127.0.0.1:\(port)", tenantID: tenantID,
            clientID: clientID, clientSecret: clientSecret ?? self.clientSecret)
    }

    private func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/{tenant}/oauth2/v2.0/token") { request, context in
            try await self.token(request, context)
        }
        for verb in ["isolate", "unisolate", "StopAndQuarantineFile"] {
            router.post("/api/machines/{machine}/\(verb)") { request, context in
                try await self.machineAction(verb, request, context)
            }
        }
        router.get("/api/machineactions/{id}") { request, context in
            try await self.getAction(request, context)
        }
        router.get("/api/machines") { request, context in
            try await self.listMachines(request, context)
        }
        router.get("/api/machineactions") { request, context in
            try await self.listActions(request, context)
        }
        return router
    }

    private func record(_ request: Request, body: ByteBuffer) -> Recorded {
        let text = String(buffer: body)
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String]
        var form: [String: String]?
        if request.headers[.contentType] == "application/x-www-form-urlencoded" {
            form = [:]
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                form?[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
        }
        let recorded = Recorded(
            method: request.method.rawValue, path: request.uri.path, authorization: request.headers[.authorization],
            contentType: request.headers[.contentType], json: json, form: form)
        state.withLock { $0.recorded.append(recorded) }
        return recorded
    }

    private func token(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let recorded = record(request, body: try await request.body.collect(upTo: 1 << 16))
        let form = recorded.form ?? [:]
        guard context.parameters.get("tenant") == tenantID, form["grant_type"] == "client_credentials",
            form["client_id"] == clientID, form["client_secret"] == clientSecret,
            form["scope"] == "https://api.securitycenter.microsoft.com/.default"
        else {
            return Self.json(.unauthorized, #"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#)
        }
        let token = state.withLock { state -> String in
            state.issued += 1
            let token = "token-\(state.issued)"
            state.validTokens.insert(token)
            return token
        }
        return Self.json(.ok, #"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"\#(token)"}"#)
    }

    /// Authentication, then the injected fault (if any), then the delay. Returns a response when the call ends here.
    private func gate(_ request: Request) async throws -> Response? {
        let authorization = request.headers[.authorization] ?? ""
        let (authorized, fault, delay) = state.withLock { state in
            let ok = authorization.hasPrefix("Bearer ") && state.validTokens.contains(String(authorization.dropFirst(7)))
            let fault = ok && !state.faults.isEmpty ? state.faults.removeFirst() : nil
            return (ok, fault, state.delay)
        }
        if delay > .zero { try await Task.sleep(for: delay) }
        guard authorized else { return Self.apiError(.unauthorized, "Unauthorized", "Unauthorized (invalid or expired authorization header)") }
        switch fault {
        case .none: return nil
        case .serverError: return Self.apiError(.internalServerError, "InternalServerError", "")
        case .unauthorized: return Self.apiError(.unauthorized, "Unauthorized", "Unauthorized (invalid or expired authorization header)")
        case .alreadyInProgress:
            return Self.apiError(.badRequest, "ActiveRequestAlreadyExists", "Action is already in progress")
        case .tooManyRequests(let seconds):
            var response = Self.apiError(.tooManyRequests, "TooManyRequests", "Rate limit is exceeded. Try again in \(seconds) seconds.")
            response.headers[.retryAfter] = String(seconds)
            return response
        }
    }

    private func machineAction(_ verb: String, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let recorded = record(request, body: try await request.body.collect(upTo: 1 << 16))
        if let refusal = try await gate(request) { return refusal }
        let machine = context.parameters.get("machine") ?? ""
        if machine.hasPrefix("unknown") {
            return Self.apiError(.notFound, "ResourceNotFound", "Machine \(machine) was not found")
        }
        guard recorded.contentType == "application/json", let body = recorded.json, body["Comment"] != nil else {
            return Self.apiError(.badRequest, "InvalidRequestBody", "Request body is incorrect")
        }
        let type = verb == "isolate" ? "Isolate" : verb == "unisolate" ? "Unisolate" : "StopAndQuarantineFile"
        let (action, loseAnswer) = state.withLock { state in
            let lose = state.answersToLose > 0
            if lose { state.answersToLose -= 1 }
            return (state.create(machine: machine, type: type, comment: body["Comment"] ?? ""), lose)
        }
        if loseAnswer { return Self.apiError(.internalServerError, "InternalServerError", "An error occurred while processing the request") }
        return Self.json(.created, Self.entity(action))
    }

    private func getAction(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = record(request, body: ByteBuffer())
        if let refusal = try await gate(request) { return refusal }
        let id = context.parameters.get("id") ?? ""
        let action = state.withLock { state -> Action? in
            guard let index = state.actions.firstIndex(where: { $0.id == id }) else { return nil }
            state.actions[index].step = min(state.actions[index].step + 1, state.actions[index].script.count - 1)
            return state.actions[index]
        }
        guard let action else { return Self.apiError(.notFound, "ResourceNotFound", "MachineAction \(id) was not found") }
        return Self.json(.ok, Self.entity(action))
    }

    /// The values of an OData `$filter` such as `machineId eq 'm' and type eq 'Isolate'`, by property (`eq`), and
    /// the lower bounds (`ge`), e.g. `creationDateTimeUtc ge 2026-11-29T10:00:00Z`.
    private static func filter(_ request: Request) -> [String: String] {
        guard let raw = request.uri.queryParameters.get("$filter") else { return [:] }
        var found: [String: String] = [:]
        for clause in raw.components(separatedBy: " and ") {
            for op in [" eq ", " ge "] {
                let parts = clause.components(separatedBy: op)
                guard parts.count == 2 else { continue }
                let name = parts[0].trimmingCharacters(in: .whitespaces) + (op == " ge " ? ">=" : "")
                found[name] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "' "))
            }
        }
        return found
    }

    private func listMachines(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = record(request, body: ByteBuffer())
        if let refusal = try await gate(request) { return refusal }
        let name = Self.filter(request)["computerDnsName"] ?? ""
        let id = state.withLock { $0.machines[name] }
        let value = id.map { #"[{"id":"\#($0)","computerDnsName":"\#(name)","lastSeen":"2026-11-29T11:00:00Z","healthStatus":"Active"}]"# } ?? "[]"
        return Self.json(.ok, #"{"@odata.context":"https://api.securitycenter.microsoft.com/api/$metadata#Machines","value":\#(value)}"#)
    }

    private func listActions(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = record(request, body: ByteBuffer())
        if let refusal = try await gate(request) { return refusal }
        let filter = Self.filter(request)
        if let bound = filter["creationDateTimeUtc>="], Self.date(bound) == nil {
            return Self.apiError(.badRequest, "InvalidRequest", "Invalid filter clause: creationDateTimeUtc ge \(bound)")
        }
        let since = filter["creationDateTimeUtc>="].flatMap(Self.date)
        let items = state.withLock { state in
            state.actions.filter { action in
                (filter["machineId"].map { action.machine == $0 } ?? true) && (filter["type"].map { action.type == $0 } ?? true)
                    && (since.map { action.created >= $0 } ?? true)
            }
        }
        let page: [String: Any] = [
            "@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#MachineActions",
            "value": items.map { Self.fields($0) },
        ]
        return Self.json(.ok, String(decoding: try JSONSerialization.data(withJSONObject: page, options: [.sortedKeys]), as: UTF8.self))
    }

    /// A machine action's JSON, as Defender answers for one action.
    private static func entity(_ action: Action) -> String {
        var fields = fields(action)
        fields["@odata.context"] = "https://api.securitycenter.microsoft.com/api/$metadata#MachineActions/$entity"
        return String(decoding: (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }

    private static func fields(_ action: Action) -> [String: Any] {
        [
            "id": action.id, "type": action.type, "requestor": "mdr-app", "requestorComment": action.requestorComment,
            "status": action.status.rawValue, "machineId": action.machine, "creationDateTimeUtc": timestamp(action.created),
            "lastUpdateDateTimeUtc": timestamp(action.created),
        ]
    }

    /// Defender's times: UTC with fractional seconds (7 digits there; milliseconds here, which order the same).
    private static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    private static func date(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }

    private static func apiError(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(status, #"{"error":{"code":"\#(code)","message":"\#(message)","target":"43f4cb08-8fac-4b65-9db1-745c2ae65f3a"}}"#)
    }

    private static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
