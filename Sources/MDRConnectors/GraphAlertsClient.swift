import AsyncHTTPClient
import Foundation
import MDRDomain
import MDRResponse
import NIOCore
import NIOHTTP1

/// Why a pull from Graph stopped. `description` never holds a secret or a token.
public struct GraphPullError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// `429`: Graph throttles this app; `retryAfter` says for how long.
        case throttled
        /// The token endpoint refused the client credentials, or Graph refused the token twice (`401`/`403`).
        case unauthorized
        /// Graph or the token endpoint could not be reached, timed out, or answered `5xx`.
        case unavailable
        /// An answer this client cannot read.
        case invalidResponse
    }

    public var kind: Kind
    public var message: String
    public var retryAfter: Duration?

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// The Microsoft Graph security alerts API (`GET /v1.0/security/alerts_v2`) for one customer tenant, as its public
/// documentation describes it: a client-credentials token (cached until shortly before it expires, asked for again
/// once on a `401`), list pages of `$top` alerts filtered by `lastUpdateDateTime`, and `@odata.nextLink` to the next
/// page. Throttling (`429` with `Retry-After`) and unavailability (`503`, `5xx`, timeouts) are reported, not waited
/// out: the poller decides when to come back.
public actor GraphAlertsClient {
    public struct Configuration: Sendable {
        /// The longest one HTTP exchange may take.
        public var requestTimeout: Duration
        /// A token is renewed this long before its `expires_in` ends.
        public var tokenRenewalMargin: Duration
        /// Alerts per page (`$top`).
        public var pageSize: Int
        /// The largest page body read.
        public var maximumPageBytes: Int

        public init(requestTimeout: Duration = .seconds(30), tokenRenewalMargin: Duration = .seconds(300), pageSize: Int = 100,
                    maximumPageBytes: Int = 32 << 20) {
            self.requestTimeout = requestTimeout
            self.tokenRenewalMargin = tokenRenewalMargin
            self.pageSize = pageSize
            self.maximumPageBytes = maximumPageBytes
        }
    }

    /// One page as Graph sent it (the ingest path parses `body` itself), with what the poller needs to go on.
    public struct Page: Sendable {
        public var body: Data
        public var alerts: Int
        /// The newest `lastUpdateDateTime` on the page.
        public var newest: Date?
        public var nextLink: String?
    }

    private let credentials: EntraAppCredentials
    private let httpClient: HTTPClient
    private let configuration: Configuration
    private let now: @Sendable () -> Date
    private var token: (value: String, renewAt: Date)?

    public init(
        credentials: EntraAppCredentials, httpClient: HTTPClient, configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.credentials = credentials
        self.httpClient = httpClient
        self.configuration = configuration
        self.now = now
    }

    /// The first page of alerts updated at or after `since`.
    public nonisolated func firstPageURL(since: Date) -> String {
        let filter = "lastUpdateDateTime ge \(Timestamp.format(since))"
        var components = URLComponents(string: credentials.baseURL + "/v1.0/security/alerts_v2")!
        components.queryItems = [URLQueryItem(name: "$filter", value: filter), URLQueryItem(name: "$top", value: "\(configuration.pageSize)")]
        // URLComponents leaves `+` (of a zone offset) and `$` alone; Graph reads `+` in a query as a space.
        return components.url!.absoluteString.replacingOccurrences(of: "+", with: "%2B")
    }

    /// Reads one page: the first (`firstPageURL`) or an `@odata.nextLink`, which must lead to the same Graph root.
    public func page(_ url: String) async throws(GraphPullError) -> Page {
        guard url.hasPrefix(credentials.baseURL + "/") else {
            throw GraphPullError(kind: .invalidResponse, message: "a next link that leaves \(credentials.baseURL) is not followed")
        }
        var refreshed = false
        while true {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Authorization", value: "Bearer \(try await accessToken())")
            request.headers.add(name: "Accept", value: "application/json")
            let (status, body, headers) = try await exchange(request, what: "Graph")
            switch status {
            case 200:
                return try Self.page(body)
            case 401 where !refreshed:
                // Expired early, or revoked and re-granted: one new token, then the answer stands.
                refreshed = true
                token = nil
            case 401, 403:
                throw GraphPullError(
                    kind: .unauthorized,
                    message: "Graph refused the app (HTTP \(status)); it needs SecurityAlert.Read.All with admin consent in the customer's tenant")
            case 429:
                throw GraphPullError(kind: .throttled, message: "Graph throttles this app (HTTP 429)", retryAfter: Self.retryAfter(headers))
            case 500...599:
                throw GraphPullError(kind: .unavailable, message: "Graph answered HTTP \(status)", retryAfter: Self.retryAfter(headers))
            default:
                throw GraphPullError(kind: .invalidResponse, message: "Graph answered HTTP \(status) to a list of alerts")
            }
        }
    }

    static func page(_ body: Data) throws(GraphPullError) -> Page {
        struct Listing: Decodable {
            struct Alert: Decodable { var lastUpdateDateTime: String? }
            var value: [Alert]
            var nextLink: String?
            enum CodingKeys: String, CodingKey {
                case value
                case nextLink = "@odata.nextLink"
            }
        }
        guard let listing = try? JSONDecoder().decode(Listing.self, from: body) else {
            throw GraphPullError(kind: .invalidResponse, message: "Graph's answer is not a list of alerts ({\"value\": [ … ]})")
        }
        let newest = listing.value.compactMap { $0.lastUpdateDateTime.flatMap(Timestamp.parse) }.max()
        return Page(body: body, alerts: listing.value.count, newest: newest, nextLink: listing.nextLink)
    }

    private func accessToken() async throws(GraphPullError) -> String {
        if let token, now() < token.renewAt { return token.value }
        let (status, body, headers) = try await exchange(credentials.tokenRequest, what: "the token endpoint")
        switch status {
        case 200:
            guard let decoded = EntraAppCredentials.decodeToken(body) else {
                throw GraphPullError(kind: .invalidResponse, message: "the token endpoint's answer has no access_token and expires_in")
            }
            let lifetime = Double(decoded.expiresIn) - configuration.tokenRenewalMargin.inSeconds
            token = (decoded.token, now().addingTimeInterval(max(0, lifetime)))
            return decoded.token
        case 400, 401:
            throw GraphPullError(
                kind: .unauthorized,
                message: "the token endpoint refused the client credentials (HTTP \(status)); check the tenant id, client id and secret of this tenant's Graph app registration")
        case 429:
            throw GraphPullError(kind: .throttled, message: "the token endpoint throttles this app (HTTP 429)", retryAfter: Self.retryAfter(headers))
        default:
            throw GraphPullError(kind: .unavailable, message: "the token endpoint answered HTTP \(status)")
        }
    }

    private func exchange(_ request: HTTPClientRequest, what: String) async throws(GraphPullError) -> (Int, Data, HTTPHeaders) {
        let timeout = TimeAmount.milliseconds(
            configuration.requestTimeout.components.seconds * 1000 + configuration.requestTimeout.components.attoseconds / 1_000_000_000_000_000)
        do {
            let response = try await httpClient.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: configuration.maximumPageBytes)
            return (Int(response.status.code), Data(body.readableBytesView), response.headers)
        } catch {
            // Transport errors carry URLs, never the form body or the token.
            throw GraphPullError(kind: .unavailable, message: "\(what) could not be reached or did not answer in time (\(type(of: error)))")
        }
    }

    /// `Retry-After` in seconds (Graph sends seconds).
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { .seconds(max(0, $0)) }
    }
}
