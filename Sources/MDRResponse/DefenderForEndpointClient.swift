import AsyncHTTPClient
import Foundation
import MDRDomain
import NIOCore
import NIOHTTP1

/// The Microsoft Defender for Endpoint connector for one customer tenant.
///
/// Follows the public API documentation: a client-credentials token (cached until shortly before it expires,
/// refreshed once on a 401), machine actions (`isolate`, `unisolate`, `StopAndQuarantineFile`) answered with
/// `201 Created` and a machine action, and `GET /api/machineactions/{id}` for the status.
/// A 400 saying an action is already pending or in progress is reported as ``EDRSubmission/alreadyInProgress``.
/// A 429 is honoured: its `Retry-After` is waited out (up to ``Configuration/maximumRetryAfter``) and the call is
/// made once more. At most 100 calls a minute leave this client (a local token bucket).
public actor DefenderForEndpointClient: EDRConnector {
    /// Timeouts and limits.
    public struct Configuration: Sendable {
        /// The longest one HTTP exchange may take.
        public var requestTimeout: Duration
        /// The longest `Retry-After` this client waits out itself; longer ones are returned as `edr_rate_limited`.
        public var maximumRetryAfter: Duration
        /// A token is renewed this long before its `expires_in` ends.
        public var tokenRenewalMargin: Duration
        /// API calls allowed per minute (Defender: 100 per tenant app).
        public var callsPerMinute: Int

        /// The defaults: 30 s per request, wait out up to 60 s, renew 5 min early, 100 calls a minute.
        public init(
            requestTimeout: Duration = .seconds(30),
            maximumRetryAfter: Duration = .seconds(60),
            tokenRenewalMargin: Duration = .seconds(300),
            callsPerMinute: Int = 100
        ) {
            self.requestTimeout = requestTimeout
            self.maximumRetryAfter = maximumRetryAfter
            self.tokenRenewalMargin = tokenRenewalMargin
            self.callsPerMinute = callsPerMinute
        }
    }

    private struct CachedToken {
        var value: String
        var expires: Date
    }

    private let credentials: DefenderCredentials
    private let httpClient: HTTPClient
    private let configuration: Configuration
    private let now: @Sendable () -> Date
    private let sleep: @Sendable (Duration) async throws -> Void
    private var token: CachedToken?
    private var limiter: RateLimiter
    private var submissions: [String: EDRSubmission] = [:]

    /// Makes a client. `now` and `sleep` are injected so tests control time.
    public init(
        credentials: DefenderCredentials,
        httpClient: HTTPClient,
        configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.credentials = credentials
        self.httpClient = httpClient
        self.configuration = configuration
        self.now = now
        self.sleep = sleep
        self.limiter = RateLimiter(capacity: configuration.callsPerMinute, per: 60)
    }

    // MARK: EDRConnector

    /// `POST /api/machines/{id}/isolate` with `{"Comment", "IsolationType"}`.
    public func isolate(
        machine: String, type: EDRIsolationType, comment: String, idempotencyKey: String
    ) async throws(EDRError) -> EDRSubmission {
        try await submit(
            path: "/api/machines/\(Self.escape(machine))/isolate",
            body: ["Comment": comment, "IsolationType": type.rawValue],
            idempotencyKey: "isolate/\(idempotencyKey)")
    }

    /// `POST /api/machines/{id}/unisolate` with `{"Comment"}`.
    public func release(machine: String, comment: String, idempotencyKey: String) async throws(EDRError)
        -> EDRSubmission
    {
        try await submit(
            path: "/api/machines/\(Self.escape(machine))/unisolate", body: ["Comment": comment],
            idempotencyKey: "unisolate/\(idempotencyKey)")
    }

    /// `POST /api/machines/{id}/StopAndQuarantineFile` with `{"Comment", "Sha1"}`.
    public func stopAndQuarantineFile(
        machine: String, sha1: String, comment: String, idempotencyKey: String
    ) async throws(EDRError) -> EDRSubmission {
        try await submit(
            path: "/api/machines/\(Self.escape(machine))/StopAndQuarantineFile",
            body: ["Comment": comment, "Sha1": sha1],
            idempotencyKey: "stopAndQuarantineFile/\(idempotencyKey)")
    }

    /// `GET /api/machineactions/{id}`.
    public func actionStatus(_ id: EDRActionID) async throws(EDRError) -> EDRActionStatus {
        let (status, body, _) = try await call(.GET, path: "/api/machineactions/\(Self.escape(id.rawValue))", json: nil)
        guard status == 200 else {
            if status == 404 {
                throw EDRError(
                    code: .actionNotFound,
                    message: "Defender does not know machine action \(id); check the id that the submission returned",
                    httpStatus: 404)
            }
            throw Self.error(status: status, body: body)
        }
        return try Self.decodeAction(body).status
    }

    /// `GET /api/machines?$filter=computerDnsName eq '{name}'` (List machines API, OData). The name is compared as
    /// Defender stores it: lowercased. Several matches (a re-onboarded machine): the one seen last.
    public func machineID(dnsName: String) async throws(EDRError) -> String? {
        let literal = dnsName.lowercased().replacingOccurrences(of: "'", with: "''")
        let (status, body, _) = try await call(
            .GET, path: "/api/machines?$filter=" + Self.escape("computerDnsName eq '\(literal)'"), json: nil)
        if status == 404 { return nil }
        guard status == 200 else { throw Self.error(status: status, body: body) }
        struct Machine: Decodable {
            var id: String
            var lastSeen: String?
        }
        struct Page: Decodable { var value: [Machine] }
        guard let page = try? JSONDecoder().decode(Page.self, from: body) else {
            throw EDRError(code: .invalidResponse, message: "Defender's machine list has no readable value array; report this with the response body")
        }
        return page.value.max { ($0.lastSeen ?? "") < ($1.lastSeen ?? "") }?.id
    }

    /// `GET /api/machineactions?$filter=machineId eq '{id}' and type eq '{type}'`: the newest such action.
    public func latestAction(machine: String, type: EDRActionType) async throws(EDRError) -> (id: EDRActionID, status: EDRActionStatus)? {
        try await actions(machine: machine, type: type).max { ($0.creationDateTimeUtc ?? "") < ($1.creationDateTimeUtc ?? "") }
            .map { ($0.id, $0.status) }
    }

    /// The first action of the type on the machine since `createdSince` whose comment carries `marker`.
    /// `requestorComment` cannot be filtered on (Defender filters id, status, machineId, type, requestor and
    /// creationDateTimeUtc): the machine's recent actions of the type are listed and the comment is matched here.
    public func findAction(
        machine: String, type: EDRActionType, createdSince: Date, commentContaining marker: String
    ) async throws(EDRError) -> (id: EDRActionID, status: EDRActionStatus)? {
        let since = createdSince.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
        return try await actions(machine: machine, type: type, also: " and creationDateTimeUtc ge \(since)")
            .filter { $0.requestorComment?.contains(marker) == true }
            .min { ($0.creationDateTimeUtc ?? "") < ($1.creationDateTimeUtc ?? "") }.map { ($0.id, $0.status) }
    }

    /// A machine action as the list gives it.
    struct ListedAction: Decodable {
        var id: EDRActionID
        var status: EDRActionStatus
        var requestorComment: String?
        var creationDateTimeUtc: String?
    }

    /// `GET /api/machineactions?$filter=machineId eq '{id}' and type eq '{type}'` plus the clause `also`.
    private func actions(machine: String, type: EDRActionType, also: String = "") async throws(EDRError) -> [ListedAction] {
        let literal = machine.replacingOccurrences(of: "'", with: "''")
        let (status, body, _) = try await call(
            .GET, path: "/api/machineactions?$filter=" + Self.escape("machineId eq '\(literal)' and type eq '\(type.rawValue)'" + also), json: nil)
        if status == 404 { return [] }
        guard status == 200 else { throw Self.error(status: status, body: body) }
        struct Page: Decodable { var value: [ListedAction] }
        guard let page = try? JSONDecoder().decode(Page.self, from: body) else {
            throw EDRError(code: .invalidResponse, message: "Defender's machine action list has no readable value array; report this with the response body")
        }
        return page.value
    }

    // MARK: Calls

    private func submit(path: String, body: [String: String], idempotencyKey: String) async throws(EDRError)
        -> EDRSubmission
    {
        if let earlier = submissions[idempotencyKey] { return earlier }
        let json: Data
        do { json = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]) } catch {
            throw EDRError(code: .badRequest, message: "the request body could not be encoded: \(error)")
        }
        let (status, responseBody, _) = try await call(.POST, path: path, json: json)
        let submission: EDRSubmission
        switch status {
        case 200, 201:
            submission = .submitted(try Self.decodeAction(responseBody).id)
        case 400 where Self.isAlreadyInProgress(responseBody):
            submission = .alreadyInProgress
        case 404:
            throw EDRError(
                code: .machineNotFound,
                message: "Defender does not know this machine; check the device's Defender machine id for this tenant",
                httpStatus: 404)
        default:
            throw Self.error(status: status, body: responseBody)
        }
        submissions[idempotencyKey] = submission
        return submission
    }

    /// One API call: rate limit, bearer token (refreshed once on 401), `Retry-After` on 429 (waited out once).
    private func call(_ method: HTTPMethod, path: String, json: Data?) async throws(EDRError) -> (Int, Data, HTTPHeaders) {
        var refreshed = false
        var waitedOut = false
        while true {
            if let wait = limiter.acquire(at: now()) {
                throw EDRError(
                    code: .rateLimited,
                    message: "more than \(configuration.callsPerMinute) Defender calls a minute for this tenant app; try again in \(Int(wait.rounded(.up))) s",
                    retryAfter: .milliseconds(Int64((wait * 1000).rounded(.up))))
            }
            let bearer = try await accessToken()
            var request = HTTPClientRequest(url: credentials.baseURL + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
            request.headers.add(name: "Accept", value: "application/json")
            if let json {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: json))
            }
            let (status, body, headers) = try await exchange(request)
            if status == 401 && !refreshed {
                refreshed = true
                token = nil
                continue
            }
            if status == 429 {
                let retryAfter = Self.retryAfter(headers) ?? .seconds(1)
                if !waitedOut && retryAfter <= configuration.maximumRetryAfter {
                    waitedOut = true
                    do { try await sleep(retryAfter) } catch {
                        throw EDRError(code: .rateLimited, message: "cancelled while waiting out Retry-After", httpStatus: 429, retryAfter: retryAfter)
                    }
                    continue
                }
                throw EDRError(
                    code: .rateLimited,
                    message: "Defender throttled this tenant app; try again after \(retryAfter)",
                    httpStatus: 429, retryAfter: retryAfter)
            }
            return (status, body, headers)
        }
    }

    private func accessToken() async throws(EDRError) -> String {
        if let token, now() < token.expires { return token.value }
        let (status, body, _) = try await exchange(credentials.tokenRequest)
        guard status == 200 else {
            if status == 400 || status == 401 {
                throw EDRError(
                    code: .unauthorized,
                    message: "the token endpoint refused the client credentials (HTTP \(status)); check the tenant id, client id and client secret of this tenant's Defender app registration",
                    httpStatus: status)
            }
            throw Self.error(status: status, body: Data())
        }
        guard let decoded = EntraAppCredentials.decodeToken(body) else {
            throw EDRError(code: .invalidResponse, message: "the token endpoint's answer has no access_token and expires_in", httpStatus: status)
        }
        let lifetime = Double(decoded.expiresIn) - configuration.tokenRenewalMargin.inSeconds
        token = CachedToken(value: decoded.token, expires: now().addingTimeInterval(max(0, lifetime)))
        return decoded.token
    }

    private func exchange(_ request: HTTPClientRequest) async throws(EDRError) -> (Int, Data, HTTPHeaders) {
        let timeout = TimeAmount.nanoseconds(
            configuration.requestTimeout.components.seconds * 1_000_000_000
                + configuration.requestTimeout.components.attoseconds / 1_000_000_000)
        do {
            let response = try await httpClient.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 4 << 20)
            return (Int(response.status.code), Data(body.readableBytesView), response.headers)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout
            || error == .connectTimeout
        {
            throw EDRError(
                code: .timeout,
                message: "Defender did not answer within \(configuration.requestTimeout); try again, or raise the request timeout")
        } catch {
            // Errors from the transport carry URLs but never the form body, so no secret can leak here.
            throw EDRError(code: .unavailable, message: "Defender could not be reached (\(type(of: error))); try again later")
        }
    }

    // MARK: Helpers

    private struct MachineAction: Decodable {
        var id: EDRActionID
        var status: EDRActionStatus
    }

    private static func decodeAction(_ body: Data) throws(EDRError) -> MachineAction {
        do { return try JSONDecoder().decode(MachineAction.self, from: body) } catch {
            throw EDRError(
                code: .invalidResponse,
                message: "Defender's machine action has no readable id and status; report this with the response body")
        }
    }

    private struct APIErrorBody: Decodable {
        struct Inner: Decodable {
            var code: String?
            var message: String?
        }
        var error: Inner
    }

    private static func isAlreadyInProgress(_ body: Data) -> Bool {
        guard let parsed = try? JSONDecoder().decode(APIErrorBody.self, from: body) else { return false }
        if parsed.error.code == "ActiveRequestAlreadyExists" { return true }
        let message = (parsed.error.message ?? "").lowercased()
        return message.contains("already in progress") || message.contains("already pending")
            || message.contains("pending or in progress")
    }

    private static func error(status: Int, body: Data) -> EDRError {
        let parsed = try? JSONDecoder().decode(APIErrorBody.self, from: body)
        let detail = [parsed?.error.code, parsed?.error.message].compactMap { $0 }.joined(separator: ": ")
        let said = detail.isEmpty ? "" : " (\(detail))"
        switch status {
        case 401:
            return EDRError(
                code: .unauthorized,
                message: "Defender refused a freshly issued token\(said); check that the app registration is consented in the customer's tenant",
                httpStatus: status)
        case 403:
            return EDRError(
                code: .forbidden,
                message: "the app registration lacks the permission for this action\(said); grant Machine.Isolate, Machine.StopAndQuarantine and Machine.Read.All with admin consent",
                httpStatus: status)
        case 400..<500:
            return EDRError(code: .badRequest, message: "Defender refused the request\(said); do not retry unchanged", httpStatus: status)
        default:
            return EDRError(code: .unavailable, message: "Defender failed with HTTP \(status)\(said); try again later", httpStatus: status)
        }
    }

    private static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        guard let value = headers.first(name: "Retry-After"), let seconds = Int(value.trimmingCharacters(in: .whitespaces)),
            seconds >= 0
        else { return nil }
        return .seconds(seconds)
    }


    private static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? segment
    }
}
