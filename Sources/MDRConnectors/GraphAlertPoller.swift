import AsyncHTTPClient
import Foundation
import Logging
import MDRApplication
import MDRDomain
import MDRResponse
import MDRStore
import ServiceLifecycle
import Synchronization

/// Pulls each connected tenant's alerts from Microsoft Graph (`alerts_v2`) and feeds them to the same ingest path as
/// the push endpoint (`POST /v1/tenants/{t}/signals/graph`): an alert seen again is a duplicate, a changed one an
/// update. Runs in every `workers` (and `all`) instance; a due connection is leased to one of them.
///
/// A sweep asks for the alerts updated at or after the checkpoint less an overlap (clocks and Graph's own indexing
/// lag), follows `@odata.nextLink` page by page, ingests each page as it comes, and moves the checkpoint to the newest
/// `lastUpdateDateTime` it saw only when the last page is in. A sweep cut short — a page limit per round, a `429`, a
/// failure — goes on from its next link later; nothing is skipped, at worst a page is ingested twice (duplicates).
public final class GraphAlertPoller: Service, Sendable {
    public struct Configuration: Sendable {
        /// How often a tenant is asked after a complete sweep.
        public var pollInterval: Duration
        /// How far before the checkpoint each sweep starts again.
        public var overlap: Duration
        /// How far back the first sweep of a new connection looks.
        public var initialLookback: Duration
        /// Pages one connection may take in one round before it yields to the others (and goes on next round).
        public var pagesPerRound: Int
        /// Connections one round takes.
        public var connectionsPerRound: Int
        /// How long one round keeps asking for pages: past it, the sweep in progress pauses (and goes on next round)
        /// and connections not yet started are given back. Keeps rounds well inside the loop's 120 s stall bound.
        public var roundBudget: Duration
        /// How long a connection is leased (renewed while a sweep runs).
        public var lease: Duration
        /// How often the worker looks for due connections when nothing else is known.
        public var wakeInterval: Duration
        /// The longest back-off after failures, unless Graph asks for longer (`Retry-After`).
        public var maximumBackoff: Duration
        public var client: GraphAlertsClient.Configuration

        public init(
            pollInterval: Duration = .seconds(60), overlap: Duration = .seconds(300), initialLookback: Duration = .seconds(86_400),
            pagesPerRound: Int = 20, connectionsPerRound: Int = 4, roundBudget: Duration = .seconds(60), lease: Duration = .seconds(60),
            wakeInterval: Duration = .seconds(5),
            maximumBackoff: Duration = .seconds(900), client: GraphAlertsClient.Configuration = .init()
        ) {
            self.pollInterval = pollInterval
            self.overlap = overlap
            self.initialLookback = initialLookback
            self.pagesPerRound = pagesPerRound
            self.connectionsPerRound = connectionsPerRound
        self.roundBudget = roundBudget
            self.lease = lease
            self.wakeInterval = wakeInterval
            self.maximumBackoff = maximumBackoff
            self.client = client
        }
    }

    /// The principal of the alerts it ingests (in the events' metadata).
    public static let principal = Principal.system("graph-connector")

    let store: GraphConnectionStore
    let commands: CommandService
    let httpClient: HTTPClient
    let time: any TimeSource
    let configuration: Configuration
    let health: WorkerHealth?
    let logger: Logger
    /// One client per tenant and credentials, so that its token is reused across rounds.
    private let clients = Mutex<[TenantID: (EntraAppCredentials, GraphAlertsClient)]>([:])
    private let wakeup = Wakeup()

    public init(
        store: GraphConnectionStore, commands: CommandService, httpClient: HTTPClient = .shared, time: any TimeSource,
        configuration: Configuration = .init(), health: WorkerHealth? = nil, logger: Logger
    ) {
        self.store = store
        self.commands = commands
        self.httpClient = httpClient
        self.time = time
        self.configuration = configuration
        self.health = health
        self.logger = logger
    }

    public func run() async throws {
        await RoundLoop.run(wakeup: wakeup, pollInterval: configuration.wakeInterval, health: health, logger: logger, what: "graph connector") {
            let pulled = try await self.runOnce()
            if pulled >= self.configuration.connectionsPerRound { return .busy }
            guard let next = try await self.store.nextDue() else { return .idle }
            let seconds = max(0, next.timeIntervalSince(self.time.now())) + 0.001
            return RoundOutcome(more: false, nextDue: .milliseconds(Int64((seconds * 1000).rounded(.up))))
        }
    }

    /// One round at `time.now()`: lease the due connections and pull each; returns how many were pulled.
    @discardableResult
    public func runOnce() async throws -> Int {
        let (lease, claimed) = try await store.claimDue(
            now: time.now(), limit: configuration.connectionsPerRound, lease: configuration.lease)
        guard !claimed.isEmpty else { return 0 }
        let time = self.time
        let clock = ContinuousClock()
        let endOfRound = clock.now.advanced(by: configuration.roundBudget)
        try await store.holding(lease, for: configuration.lease, now: { time.now() }) {
            for connection in claimed {
                guard clock.now < endOfRound else {
                    try await store.release(connection.connection.tenant, lease: lease)
                    continue
                }
                let outcome = await pull(connection, until: endOfRound)
                if case .failed(let error, _, _) = outcome {
                    logger.warning("graph connector: pull failed", metadata: ["tenant": "\(connection.connection.tenant)", "error": "\(error)"])
                }
                try await store.settle(connection.connection.tenant, lease: lease, outcome)
            }
        }
        return claimed.count
    }

    /// One connection's pull: from its resume link or a new sweep, up to `pagesPerRound` pages, and not past `endOfRound`.
    func pull(_ claimed: GraphConnectionStore.Claimed, until endOfRound: ContinuousClock.Instant) async -> GraphConnectionStore.Outcome {
        let connection = claimed.connection
        let client = client(for: connection)
        let start = time.now()
        let since = connection.health.checkpoint.map { $0.addingTimeInterval(-configuration.overlap.inSeconds) }
            ?? start.addingTimeInterval(-configuration.initialLookback.inSeconds)
        var url = claimed.resumeLink ?? client.firstPageURL(since: since)
        var newest: Date?
        var alerts = 0
        for _ in 0..<max(1, configuration.pagesPerRound) {
            let page: GraphAlertsClient.Page
            do {
                page = try await client.page(url)
                if page.alerts > 0 {
                    _ = try await commands.ingestGraphAlerts(
                        tenant: connection.tenant, body: page.body, context: CommandContext(principal: Self.principal))
                }
            } catch {
                let now = time.now()
                let wait = retryDelay(error, failures: connection.health.failures + 1)
                let text = (error as? GraphPullError)?.description ?? "ingest: \(error)"
                if alerts == 0 { return .failed(error: text, nextPollAt: now.addingTimeInterval(wait), at: now) }
                return .paused(resumeLink: url, newest: newest, alerts: alerts, nextPollAt: now.addingTimeInterval(wait), error: text, at: now)
            }
            alerts += page.alerts
            if let pageNewest = page.newest { newest = max(newest ?? pageNewest, pageNewest) }
            guard let next = page.nextLink else {
                let now = time.now()
                return .swept(newest: newest, alerts: alerts, nextPollAt: now.addingTimeInterval(configuration.pollInterval.inSeconds), at: now)
            }
            url = next
            if ContinuousClock.now >= endOfRound { break }
        }
        // The page limit or the round's budget: the others get their turn; this one is due again at once.
        let now = time.now()
        return .paused(resumeLink: url, newest: newest, alerts: alerts, nextPollAt: now, error: nil, at: now)
    }

    /// How long to wait after `error`: Graph's `Retry-After` when it gives one, else a back-off doubling from 30 s.
    func retryDelay(_ error: any Error, failures: Int) -> TimeInterval {
        if let pull = error as? GraphPullError, let after = pull.retryAfter { return max(1, after.inSeconds) }
        return min(configuration.maximumBackoff.inSeconds, 30 * pow(2, Double(min(max(failures - 1, 0), 10))))
    }

    private func client(for connection: GraphConnection) -> GraphAlertsClient {
        clients.withLock { clients in
            if let (credentials, client) = clients[connection.tenant], credentials == connection.credentials { return client }
            let client = GraphAlertsClient(
                credentials: connection.credentials, httpClient: httpClient, configuration: configuration.client, now: { [time] in time.now() })
            clients[connection.tenant] = (connection.credentials, client)
            return client
        }
    }

}
