import AsyncHTTPClient
import Foundation
import Logging
import MDRApplication
import MDRDomain
import MDRStore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// When an unacknowledged P1 confirmation is sent again, and how often at most.
public struct ResendPolicy: Sendable, Hashable {
    /// Sent again when no one acknowledged it this long after it was delivered.
    public var after: Duration
    /// Resends at most (0: never).
    public var maxResends: Int

    public init(after: Duration = .seconds(15 * 60), maxResends: Int = 3) {
        self.after = after
        self.maxResends = maxResends
    }
}

/// How one attempt on one route ended, whatever the channel.
enum AttemptResult: Sendable, Hashable {
    case delivered
    /// Try again (not before `retryAfter`, when the receiver said so).
    case retry(reason: String, retryAfter: Duration?)
    /// Do not try again: a permanent refusal.
    case failed(reason: String)
    /// The endpoint answered 410 Gone: disable it and give up.
    case gone
    /// The route could not be tried at all (no signing secret, endpoint disabled, no e-mail server).
    case unusable(reason: String)
}

/// The delivery workers: claim due outbox entries (`FOR UPDATE SKIP LOCKED` under a lease), deliver them over their
/// channel, and record every attempt as an event in the tenant's log — `NotificationDelivered`,
/// `NotificationAttemptFailed` (with the next attempt's time) or `NotificationFailed` — in the transaction that writes
/// the entry's new state. Any number of instances cooperate; a worker that dies mid-delivery leaves its claim to run
/// out (30 s; renewed while a living worker delivers), and another worker tries again with the same `webhook-id` (at
/// least once; receivers de-duplicate).
///
/// Also sends unacknowledged P1 confirmations again (`ResendPolicy`).
public final class NotificationDeliveryWorker: Service, Sendable {
    public struct Configuration: Sendable {
        public var retry: RetryPolicy
        public var resend: ResendPolicy
        /// Entries claimed per round.
        public var batchSize: Int
        /// How long a claim lasts without a renewal: how soon another worker takes over a dead worker's entries. Renewed
        /// every third of it while a batch is delivered, so it need not cover the channels' timeouts.
        public var lease: Duration
        /// How often to look for due entries when nothing woke the worker.
        public var pollInterval: Duration
        /// The From address of e-mail notifications.
        public var emailFrom: String
        /// How late (from when it was due) a delivery to a customer may become before Dynamic is told, once, while the
        /// retries go on: the attempt after which the next one falls past this is marked `late`.
        public var lateAfter: Duration

        public init(
            retry: RetryPolicy = .notifications, resend: ResendPolicy = ResendPolicy(), batchSize: Int = 200, lease: Duration = .seconds(30),
            pollInterval: Duration = .seconds(1), emailFrom: String = "mdr@localhost", lateAfter: Duration = .seconds(15 * 60)
        ) {
            self.lateAfter = lateAfter
            self.retry = retry
            self.resend = resend
            self.batchSize = batchSize
            self.lease = lease
            self.pollInterval = pollInterval
            self.emailFrom = emailFrom
        }
    }

    let outbox: NotificationOutbox
    let endpoints: WebhookEndpointStore
    let store: EventStore
    let webhook: WebhookChannel
    let email: SMTPChannel?
    let configuration: Configuration
    let time: any TimeSource
    let wake: Wakeup
    let logger: Logger
    let health: WorkerHealth?
    public let actor = Principal.system("notifications")
    private let random = Mutex(SystemRandomNumberGenerator())
    /// When resends were last looked for: at most once a second (by the injected clock), not on every round.
    private let lastResendCheck = Mutex<Date?>(nil)

    public init(
        outbox: NotificationOutbox, endpoints: WebhookEndpointStore, store: EventStore, webhook: WebhookChannel, email: SMTPChannel?,
        configuration: Configuration = Configuration(), time: any TimeSource, wake: Wakeup, health: WorkerHealth? = nil, logger: Logger
    ) {
        self.outbox = outbox
        self.health = health
        self.endpoints = endpoints
        self.store = store
        self.webhook = webhook
        self.email = email
        self.configuration = configuration
        self.time = time
        self.wake = wake
        var logger = logger
        logger[metadataKey: "worker"] = "notifications"
        self.logger = logger
    }

    public func run() async throws {
        await run(named: "delivery")
    }

    /// Runs one delivery loop, watched under `name` (several loops share a worker).
    public func run(named name: String) async {
        await RoundLoop.run(wakeup: wake, pollInterval: configuration.pollInterval, health: health, logger: logger, what: name) {
            try await self.runOnce() > 0 ? .busy : .idle
        }
    }

    /// One round: queue due resends, then claim, deliver and record a batch. Returns the entries handled.
    @discardableResult
    public func runOnce() async throws -> Int {
        let resent = try await queueResends()
        let claimed = try await outbox.claimDue(now: time.now(), limit: configuration.batchSize, lease: configuration.lease)
        guard let token = claimed.first?.leaseToken else { return resent }
        let time = self.time
        return try await outbox.queue.holding(token, for: configuration.lease, renewEvery: configuration.lease / 3, now: { time.now() }) {
            try await deliver(claimed) + resent
        }
    }

    /// Delivers a claimed batch and records each attempt.
    private func deliver(_ claimed: [ClaimedNotification]) async throws -> Int {
        let webhookURLs = Set(claimed.filter { $0.entry.route.channel == .webhook }.map(\.entry.route.address))
        let known = webhookURLs.isEmpty ? [:] : try await endpoints.find(urls: Array(webhookURLs))

        let results = await withTaskGroup(of: (Int, AttemptResult).self) { group in
            for (index, claim) in claimed.enumerated() {
                group.addTask { (index, await self.attempt(claim.entry, endpoint: known[claim.entry.route.address])) }
            }
            var results = [AttemptResult](repeating: .retry(reason: "not attempted", retryAfter: nil), count: claimed.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
        try await record(zip(claimed, results).map { ($0, $1) })
        return claimed.count
    }

    /// Runs rounds until nothing is due (tests).
    public func drain() async throws {
        while try await runOnce() > 0 {}
    }

    // MARK: Attempts

    func attempt(_ entry: OutboxEntry, endpoint: WebhookEndpoint?) async -> AttemptResult {
        switch entry.route.channel {
        case .webhook:
            guard let endpoint else { return .unusable(reason: "no signing secret is registered for \(entry.route.address) (mdr webhook set)") }
            if let disabled = endpoint.disabledAt {
                return .unusable(reason: "the endpoint is disabled since \(Timestamp.format(disabled)): \(endpoint.disabledReason ?? "")")
            }
            let secrets = endpoint.secrets.compactMap(WebhookSecret.init)
            guard !secrets.isEmpty else { return .unusable(reason: "the endpoint's secrets are not whsec_ secrets") }
            let outcome = await webhook.deliver(WebhookNotification(id: entry.notificationID, body: entry.payload, secrets: secrets), to: entry.route.address)
            switch outcome {
            case .delivered: return .delivered
            case .disabled: return .gone
            case .retryAfter(let wait): return .retry(reason: "asked to retry after \(wait.components.seconds) s", retryAfter: wait)
            case .failed(let failure): return .retry(reason: failure.description, retryAfter: nil)
            }
        case .email:
            guard let email else { return .unusable(reason: "no e-mail server is configured (MDR_SMTP_HOST)") }
            guard let payload = try? NotificationPayload.decode(entry.payload) else { return .failed(reason: "the stored payload is unreadable") }
            let message = NotificationEmail.message(for: payload, from: configuration.emailFrom, to: entry.route.address)
            switch await email.deliver(message) {
            case .delivered: return .delivered
            case .rejected(let code, let reply): return .failed(reason: "SMTP \(code) \(reply)")
            case .failed(let reason): return .retry(reason: reason, retryAfter: nil)
            }
        case .phone:
            return .unusable(reason: "phone routes are called by Dynamic, not by the service")
        }
    }

    // MARK: Recording

    /// Writes each attempt's outcome on its entry and appends its event, in one transaction. Entries whose claim ran
    /// out meanwhile are left alone: another worker has them.
    func record(_ attempts: [(ClaimedNotification, AttemptResult)]) async throws {
        let now = time.now()
        let decided = attempts.map { claim, result in (claim, result, decide(claim, result, now: now)) }
        let byID = Dictionary(decided.map { ($0.0.entry.notificationID, $0) }, uniquingKeysWith: { first, _ in first })
        let outbox = self.outbox, actor = self.actor
        let settled = try await outbox.queue.settle(
            decided.map(\.0.entry.notificationID), store: store,
            update: { connection in
                try await outbox.settle(decided.map { claim, _, d in (claim.entry.notificationID, claim.leaseToken, d.2, d.0) }, on: connection)
            },
            events: { id in
                guard let (claim, _, (_, event, attemptsMade)) = byID[id] else { return nil }
                let entry = claim.entry
                let eventID = derivedUUID("notification-attempt", entry.notificationID, String(attemptsMade), event.type)
                return (entry.tenant, [EventToAppend(event, eventID: eventID, metadata: EventMetadata(principal: actor, causationID: nil))])
            })
        let gone = decided.filter { settled.contains($0.0.entry.notificationID) && $0.1 == .gone }.map(\.0.entry.route.address)
        for url in Set(gone) {
            try await endpoints.disable(url: url, reason: "answered 410 Gone", at: now)
            logger.warning("webhook endpoint disabled: it answered 410 Gone", metadata: ["url": "\(url)"])
        }
    }

    /// The entry's next state, the attempt's event, and the number of attempts made.
    func decide(_ claim: ClaimedNotification, _ result: AttemptResult, now: Date) -> (OutboxSettlement, DomainEvent, Int) {
        let entry = claim.entry
        let attempt = claim.attempts + 1
        func failed(_ reason: String, attempts: Int) -> (OutboxSettlement, DomainEvent, Int) {
            (
                .failed(at: now, error: reason),
                .notificationFailed(
                    NotificationFailed(
                        notificationID: entry.notificationID, about: entry.about, route: entry.route, attempts: attempts, reason: reason, failedAt: now)),
                attempts
            )
        }
        switch result {
        case .delivered:
            return (
                .delivered(at: now),
                .notificationDelivered(
                    NotificationDelivered(notificationID: entry.notificationID, about: entry.about, route: entry.route, attempt: attempt, deliveredAt: now)),
                attempt
            )
        case .failed(let reason):
            return failed(reason, attempts: attempt)
        case .gone:
            return failed("the endpoint answered 410 Gone and is disabled", attempts: attempt)
        case .unusable(let reason):
            return failed(reason, attempts: claim.attempts)
        case .retry(let reason, let retryAfter):
            let delay = random.withLock { configuration.retry.delay(afterAttempt: attempt, retryAfter: retryAfter, using: &$0) }
            guard let delay else { return failed("gave up after \(attempt) attempts; the last: \(reason)", attempts: attempt) }
            let next = now.addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
            let late = Self.becomesLate(entry, attemptsBefore: claim.attempts, now: now, next: next, after: configuration.lateAfter)
            return (
                .retry(at: next, error: reason),
                .notificationAttemptFailed(
                    NotificationAttemptFailed(
                        notificationID: entry.notificationID, about: entry.about, route: entry.route, attempt: attempt, reason: reason,
                        attemptedAt: now, nextAttemptAt: next, late: late ? true : nil)),
                attempt
            )
        }
    }

    /// Whether the failed attempt made `now` is the one at which a delivery to a customer becomes late: the attempt was
    /// made within `after` of when the notification was due and the next one will not be, or it was the first attempt
    /// and already past it. At most one attempt of a notification is (attempts are made in time order); Dynamic's own
    /// routes never are (every notice already goes to each of them).
    static func becomesLate(_ entry: OutboxEntry, attemptsBefore: Int, now: Date, next: Date, after: Duration) -> Bool {
        guard entry.route.recipient != .dynamic else { return false }
        let bound = Double(after.components.seconds) + Double(after.components.attoseconds) / 1e18
        let madeLate = now.timeIntervalSince(entry.sendAt) > bound
        return madeLate ? attemptsBefore == 0 : next.timeIntervalSince(entry.sendAt) > bound
    }

    // MARK: Resending

    /// Queues a resend of every delivered P1 confirmation no one acknowledged in time.
    func queueResends() async throws -> Int {
        let policy = configuration.resend
        guard policy.maxResends > 0 else { return 0 }
        let now = time.now()
        let due = lastResendCheck.withLock { last -> Bool in
            guard last.map({ now.timeIntervalSince($0) >= 1 }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return 0 }
        return try await store.database.client.withTransaction(logger: logger) { connection in
            let due = try await self.outbox.claimDueResends(
                now: now, after: policy.after, maxResends: policy.maxResends, limit: self.configuration.batchSize, on: connection)
            var resends = due.map { NotificationPlanner.resend(of: $0, number: $0.resendNumber + 1) }
            for index in resends.indices { resends[index].sendAt = now }
            try await self.outbox.insert(resends, on: connection)
            return resends.count
        }
    }
}

/// The notifier and the delivery workers as the services one instance runs, with the HTTP client they share.
public struct NotificationDeliveryService: Service {
    let settings: NotificationSettings
    let store: EventStore
    let wake: Wakeup
    let time: any TimeSource
    let health: WorkerHealth?
    let logger: Logger

    /// The notifier (a consumer of the pipeline) and this service (the delivery workers), which the notifier wakes when
    /// it has planned entries.
    public static func make(
        settings: NotificationSettings, store: EventStore, time: any TimeSource = SystemTime(), health: WorkerHealth? = nil, logger: Logger
    ) -> (notifier: any LogConsumer, service: NotificationDeliveryService) {
        let wake = Wakeup()
        let notifier = Notifier(
            planner: NotificationPlanner(dynamic: settings.dynamicRoutes, linkBase: settings.linkBase),
            outbox: NotificationOutbox(database: store.database, logger: logger), wake: wake, time: time)
        return (ProcessManager(notifier), NotificationDeliveryService(settings: settings, store: store, wake: wake, time: time, health: health, logger: logger))
    }

    public func run() async throws {
        let endpoints = WebhookEndpointStore(database: store.database, logger: logger)
        for route in settings.dynamicRoutes where route.channel == .webhook {
            try await endpoints.set(url: route.address, secrets: settings.dynamicWebhookSecrets)
        }
        // Redirects are failures: a signed call is not sent on to another host.
        // Up to 32 connections per receiver: a batch is delivered at once, and Dynamic's endpoint gets every notification.
        var httpConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        let worker = NotificationDeliveryWorker(
            outbox: NotificationOutbox(database: store.database, logger: logger), endpoints: endpoints, store: store,
            webhook: WebhookChannel(client: client, timeout: settings.webhookTimeout), email: settings.smtp.map { SMTPChannel(configuration: $0) },
            configuration: .init(
                retry: settings.retry, resend: settings.resend, lease: .seconds(30),
                emailFrom: settings.smtp?.from ?? "mdr@localhost", lateAfter: settings.lateAfter),
            time: time, wake: wake, health: health, logger: logger)
        do {
            // Several loops over one worker: while one batch is being delivered and recorded, another is claimed.
            // Claims are row locks with leases, so the loops never take the same entry.
            try await withThrowingTaskGroup(of: Void.self) { group in
                let loops = max(1, settings.deliveryLoops)
                for loop in 1...loops { group.addTask { await worker.run(named: loops == 1 ? "delivery" : "delivery \(loop)") } }
                try await group.waitForAll()
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}
