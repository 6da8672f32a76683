import Foundation
import Logging
import MDRApplication
import MDRDomain
import MDRStore
import PostgresNIO
import ServiceLifecycle

/// The isolation process manager: turns `DeviceIsolationRequested`, `DeviceReleaseRequested` and
/// `FileQuarantineRequested` into EDR actions and appends their outcome.
///
/// 1. **Plan**: its `ResponsePlanner`, a consumer of the pipeline (position `responder`), turns each request into a
///    row of `response_actions`, in the round's transaction, and wakes the worker.
/// 2. **Claim** (this worker, per round): due rows are leased (`LeasedQueue`) in one statement with `FOR UPDATE SKIP LOCKED`, so several
///    instances never work on the same request at once; the EDR is then called outside any transaction.
///    Isolation and release of one device are carried out in log order; a stop-and-quarantine does not wait for them.
/// 3. **Record**: a new request is submitted (idempotency key: the request event's id) and `EDRActionSubmitted` is
///    appended before any polling, so a restarted responder polls that action instead of submitting again. Before the
///    call the intent is written on the row (`submitting_since`) and the request's id rides in the action's comment:
///    a worker that takes over a request with an intent but no `EDRActionSubmitted` (its submitter died between
///    Defender's answer and the event, or the answer was lost) looks for that action and adopts it instead of
///    submitting a second one. A
///    submitted action is asked for its status every `statusInterval` until it is final or the deadline passes; then
///    `DeviceIsolated` / `DeviceIsolationFailed`, `DeviceReleased` / `DeviceReleaseFailed` or `FileQuarantined` /
///    `FileQuarantineFailed` is appended, in the transaction that marks the row done.
///
/// Every appended event has an id derived from (tenant, request event, step), so no replay or second instance can
/// append it twice. Leases are short (30 s) and renewed while a round works (`LeasedQueue.holding`): the requests of an
/// instance that died are taken over within the lease. Transient EDR errors (429, 5xx, timeouts) are retried with exponential back-off until the deadline.
/// Time comes from a `TimeSource`; tests drive `runOnce()` with a manual clock.
public final class Responder: Service, Sendable {
    /// Intervals and limits.
    public struct Configuration: Sendable {
        /// How often to look for new requests when no wake-up arrived (the polling fallback).
        public var pollInterval: Duration
        /// How often a submitted action's status is asked (`MDR_EDR_POLL_INTERVAL`).
        public var statusInterval: Duration
        /// How long after the responder first sees a request it gives up waiting for a final status (`MDR_EDR_ACTION_TIMEOUT`).
        public var actionTimeout: Duration
        /// How long a claimed request stays leased to this instance without a renewal; past it another instance takes
        /// it over. Renewed every third of it while the round works, so it bounds a takeover, not a round.
        public var lease: Duration
        /// The first retry after a transient error; doubled per attempt up to `maximumBackoff`.
        public var initialBackoff: Duration
        public var maximumBackoff: Duration
        /// Requests claimed per round.
        public var batchSize: Int

        /// Defaults: poll 1 s, status every 10 s, deadline 10 min, lease 30 s, back-off 5 s … 5 min, 50 per round.
        public init(
            pollInterval: Duration = .seconds(1), statusInterval: Duration = .seconds(10), actionTimeout: Duration = .seconds(600),
            lease: Duration = .seconds(30), initialBackoff: Duration = .seconds(5), maximumBackoff: Duration = .seconds(300),
            batchSize: Int = 50
        ) {
            self.pollInterval = pollInterval
            self.statusInterval = statusInterval
            self.actionTimeout = actionTimeout
            self.lease = lease
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.batchSize = batchSize
        }
    }

    /// What one round did.
    public struct Round: Sendable, Equatable {
        /// Requests claimed and worked on.
        public var claimed = 0
        /// `EDRActionSubmitted` events appended.
        public var submitted = 0
        /// Outcome events appended.
        public var finished = 0

        public init() {}
    }

    /// Who the responder's events are appended as.
    public static let actor = Principal.system("responder")
    /// Its planner's position's name in `consumer_checkpoints`.
    public static let name = "responder"
    /// The request events it reacts to.
    public static let requestTypes = [DeviceIsolationRequested.eventType, DeviceReleaseRequested.eventType, FileQuarantineRequested.eventType]

    let store: EventStore
    let connectors: any EDRConnectorSource
    let time: any TimeSource
    let configuration: Configuration
    let logger: Logger
    let health: WorkerHealth?
    /// Woken by the planner when it has added requests.
    public let wakeup = Wakeup()
    /// The consumer of the pipeline that turns requests in the log into this worker's rows.
    public var planner: ResponsePlanner {
        ResponsePlanner(time: time, actionTimeout: configuration.actionTimeout, wakeup: wakeup, logger: logger)
    }

    public init(
        store: EventStore, connectors: any EDRConnectorSource, time: any TimeSource = SystemTime(), configuration: Configuration = .init(),
        health: WorkerHealth? = nil, logger: Logger
    ) {
        self.store = store
        self.health = health
        self.connectors = connectors
        self.time = time
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "component"] = "responder"
        self.logger = logger
    }

    /// The id of the `EDRActionSubmitted` of a request.
    public static func submittedEventID(tenant: TenantID, request: UUID) -> UUID {
        derivedUUID(name, tenant.rawValue, request.uuidString.lowercased(), "submitted")
    }

    /// The id of the outcome event of a request.
    public static func outcomeEventID(tenant: TenantID, request: UUID) -> UUID {
        derivedUUID(name, tenant.rawValue, request.uuidString.lowercased(), "outcome")
    }

    // MARK: Service

    /// Runs until graceful shutdown: a round, then a wait until the next request is due (at most the poll interval) or
    /// the planner adds one.
    public func run() async throws {
        await RoundLoop.run(wakeup: wakeup, pollInterval: configuration.pollInterval, health: health, logger: logger, what: "responder") {
            let round = try await self.runOnce()
            if round.claimed >= self.configuration.batchSize { return .busy }
            guard let next = try await self.nextDue() else { return .idle }
            let seconds = max(0, next.timeIntervalSince(self.time.now())) + 0.001
            return RoundOutcome(more: false, nextDue: .milliseconds(Int64((seconds * 1000).rounded(.up))))
        }
    }

    /// One round at `time.now()`: claim the due requests and take each one step.
    @discardableResult
    public func runOnce() async throws -> Round {
        var round = Round()
        let claimed = try await claim()
        round.claimed = claimed.count
        guard let token = claimed.first?.leaseToken else { return round }
        let time = self.time
        return try await queue.holding(token, for: configuration.lease, renewEvery: configuration.lease / 3, now: { time.now() }) {
            try await work(on: claimed, round)
        }
    }

    /// Takes each claimed request one step, in order.
    private func work(on claimed: [Request], _ round: Round) async throws -> Round {
        var round = round
        for item in claimed {
            do {
                switch try await work(on: item) {
                case .submitted: round.submitted += 1
                case .finished: round.finished += 1
                case .rescheduled: break
                }
            } catch {
                // A database failure while recording: the request is tried again after the first back-off (the derived
                // event ids keep a repeated append out of the log); the other claimed requests go on.
                logger.error(
                    "recording an EDR action failed; retrying",
                    metadata: ["tenant": "\(item.tenant)", "request": "\(item.eventID)", "error": "\(String(reflecting: error))"])
                try? await reschedule(item, after: configuration.initialBackoff, status: nil, error: "\(error)", attempts: item.attempts)
            }
        }
        return round
    }

    /// When the next unfinished request is due (nil when none).
    public func nextDue() async throws -> Date? {
        let rows = try await store.database.client.query(
            "SELECT min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) FROM response_actions WHERE status <> 'done'",
            logger: logger)
        for try await due in rows.decode(Date?.self) { return due }
        return nil
    }

    // MARK: Claim

    /// A request the responder works on: what was asked, and how far it got.
    public struct Request: Sendable {
        var tenant: TenantID
        var eventID: UUID
        var position: Int64
        var action: ResponseActionKind
        var device: DeviceID
        var incident: IncidentID?
        var isolationType: IsolationType?
        var sha1: String?
        var comment: String
        var requestedAt: Date
        var submitted = false
        var machineID: String?
        var edrActionID: String?
        var attempts = 0
        var deadline = Date.distantFuture
        /// This worker's lease on the row (`LeasedQueue`): an outcome is recorded only while it holds.
        var leaseToken: UUID?
        /// When a worker was about to submit it (the intent): an action with its marker may exist at the EDR.
        var submittingSince: Date?

        init?(_ recorded: PipelineEvent) throws {
            let event = try recorded.event()
            tenant = recorded.tenant
            eventID = recorded.eventID
            position = recorded.position
            switch event {
            case .deviceIsolationRequested(let e):
                (action, device, incident, isolationType, comment, requestedAt) = (.isolate, e.deviceID, e.incidentID, e.isolationType, e.comment, e.requestedAt)
            case .deviceReleaseRequested(let e):
                (action, device, comment, requestedAt) = (.release, e.deviceID, e.reason, e.requestedAt)
            case .fileQuarantineRequested(let e):
                (action, device, incident, sha1, comment, requestedAt) = (.stopAndQuarantineFile, e.deviceID, e.incidentID, e.sha1, e.comment, e.requestedAt)
            default:
                return nil
            }
        }

        init(
            tenant: TenantID, eventID: UUID, position: Int64, action: ResponseActionKind, device: DeviceID, incident: IncidentID?,
            isolationType: IsolationType?, sha1: String?, comment: String, requestedAt: Date
        ) {
            self.tenant = tenant
            self.eventID = eventID
            self.position = position
            self.action = action
            self.device = device
            self.incident = incident
            self.isolationType = isolationType
            self.sha1 = sha1
            self.comment = comment
            self.requestedAt = requestedAt
        }
    }

    /// The request rows as a queue worked on under leases (`LeasedQueue`).
    var queue: LeasedQueue { LeasedQueue(table: "response_actions", key: ["tenant_id", "request_event_id"], database: store.database) }

    /// Leases the due requests to this instance. One statement: rows another instance is leasing are skipped. Isolation
    /// and release of one device are carried out in log order; a stop-and-quarantine does not wait for them.
    func claim() async throws -> [Request] {
        let (lease, rows) = try await queue.claim(
            due: """
                c.status <> 'done' AND c.next_attempt_at <= $3
                AND (c.action = 'stopAndQuarantineFile' OR NOT EXISTS (
                    SELECT 1 FROM response_actions e
                    WHERE e.tenant_id = c.tenant_id AND e.device_id = c.device_id AND e.status <> 'done'
                      AND e.action <> 'stopAndQuarantineFile' AND e.position < c.position))
                """,
            order: "c.next_attempt_at, c.tenant_id, c.position", limit: configuration.batchSize, lease: configuration.lease, now: time.now(),
            returning: """
                q.tenant_id, q.request_event_id, q.position, q.action, q.device_id, q.incident_id, q.isolation_type, q.sha1, q.comment,
                q.requested_at, q.status, q.machine_id, q.edr_action_id, q.attempts, q.deadline, q.submitting_since
                """)
        var claimed: [Request] = []
        for try await (tenant, id, position, action, device, incident, type, sha1, comment, requestedAt, status, machine, edrAction, attempts, deadline, intent)
            in rows.decode(
                (String, UUID, Int64, String, String, UUID?, String?, String?, String, Date, String, String?, String?, Int32, Date, Date?).self)
        {
            guard let tenant = TenantID(rawValue: tenant), let action = ResponseActionKind(rawValue: action),
                let device = DeviceID(rawValue: device)
            else { continue }
            var request = Request(
                tenant: tenant, eventID: id, position: position, action: action, device: device, incident: incident.map(IncidentID.init(rawValue:)),
                isolationType: type.flatMap(IsolationType.init(rawValue:)), sha1: sha1, comment: comment, requestedAt: requestedAt)
            request.submitted = status == "submitted"
            request.machineID = machine
            request.edrActionID = edrAction
            request.attempts = Int(attempts)
            request.deadline = deadline
            request.leaseToken = lease.token
            request.submittingSince = intent
            claimed.append(request)
        }
        return claimed.sorted { ($0.tenant.rawValue, $0.position) < ($1.tenant.rawValue, $1.position) }
    }

    // MARK: Work

    enum Progress {
        case submitted, finished, rescheduled
    }

    /// Why an action ended without success: the text of the failure event's `reason`.
    struct Failure: Error {
        var reason: String
        var edrActionID: String?
    }

    /// Takes one claimed request one step: submit it, or ask for its status; records the outcome.
    func work(on request: Request) async throws -> Progress {
        let now = time.now()
        var request = request
        do {
            guard let connector = try await connectors.connector(for: request.tenant) else {
                throw Failure(
                    reason: "no EDR connection for tenant '\(request.tenant)': configure one with `mdr edr set --tenant \(request.tenant) …` and request again",
                    edrActionID: request.edrActionID)
            }
            if !request.submitted {
                guard let submitted = try await submitOrAdopt(request, with: connector, at: now) else { return .rescheduled }
                request = submitted
                try await recordSubmitted(request, at: now)
                return .submitted
            }
            guard let machine = request.machineID else {
                throw Failure(reason: "the submitted action has no machine id recorded; request again", edrActionID: request.edrActionID)
            }
            let status: EDRActionStatus
            if let id = request.edrActionID {
                status = try await connector.actionStatus(EDRActionID(rawValue: id))
            } else if let adopted = try await connector.latestAction(machine: machine, type: Self.edrType(request.action)) {
                request.edrActionID = adopted.id.rawValue
                status = adopted.status
            } else {
                status = .pending
            }
            switch status {
            case .succeeded:
                try await finish(request, failure: nil, status: status, at: now)
                return .finished
            case .failed, .timeOut, .cancelled:
                throw Failure(reason: "Defender reported the action \(status.rawValue)", edrActionID: request.edrActionID)
            case .pending, .inProgress:
                if now >= request.deadline {
                    throw Failure(
                        reason: "TimeOut: Defender reported no final status within \(configuration.actionTimeout.inSeconds) s (last status: \(status.rawValue)); check that the device is online and request again",
                        edrActionID: request.edrActionID)
                }
                try await reschedule(request, after: configuration.statusInterval, status: status, error: nil, attempts: 0)
                return .rescheduled
            }
        } catch let failure as Failure {
            try await finish(request, failure: failure, status: nil, at: now)
            return .finished
        } catch let error as EDRError {
            if error.isTransient && now < request.deadline {
                let attempts = request.attempts + 1
                let exponent = min(attempts - 1, 16)
                var wait = configuration.initialBackoff.inSeconds * pow(2, Double(exponent))
                wait = min(wait, configuration.maximumBackoff.inSeconds)
                if let retryAfter = error.retryAfter { wait = max(wait, retryAfter.inSeconds) }
                logger.warning(
                    "EDR call failed; retrying", metadata: ["tenant": "\(request.tenant)", "request": "\(request.eventID)", "error": "\(error)"])
                try await reschedule(request, after: .milliseconds(Int64(wait * 1000)), status: nil, error: error.description, attempts: attempts)
                return .rescheduled
            }
            try await finish(request, failure: Failure(reason: Self.reason(for: error), edrActionID: request.edrActionID), status: nil, at: now)
            return .finished
        }
    }

    /// The Defender machine id of the request's device: a device id from a Graph alert is the `mdeDeviceId` (40 hex
    /// characters); any other is looked up by DNS name.
    func machineID(of request: Request, with connector: any EDRConnector) async throws -> String {
        if let known = request.machineID { return known }
        let raw = request.device.rawValue
        if raw.utf8.count == 40, raw.lowercased().utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) {
            return raw.lowercased()
        }
        guard let found = try await connector.machineID(dnsName: raw) else {
            throw Failure(
                reason: "machine not found: Defender knows no machine named '\(raw)' in tenant '\(request.tenant)'; check the device name or use its Defender device id",
                edrActionID: nil)
        }
        return found
    }

    /// How far the EDR's clock may be behind ours when looking for an action created since an intent.
    static let clockSkew: TimeInterval = 300

    /// The text in an action's comment that ties it to its request: `[mdr request <request event id>]`.
    static func marker(_ request: Request) -> String {
        "[mdr request \(request.eventID.uuidString.lowercased())]"
    }

    /// Submits the request, or adopts the action an earlier attempt submitted: when the row carries an intent and the
    /// EDR lists an action of the machine and type with the request's marker, created since, that action is the
    /// request's. Otherwise the intent is written (under this worker's lease) and the request submitted. Returns the
    /// request with its machine and action, or nil when the lease was lost before the call (another worker has it).
    func submitOrAdopt(_ request: Request, with connector: any EDRConnector, at now: Date) async throws -> Request? {
        var request = request
        let machine = try await machineID(of: request, with: connector)
        request.machineID = machine
        let type = Self.edrType(request.action)
        if let since = request.submittingSince,
            let earlier = try await connector.findAction(
                machine: machine, type: type, createdSince: since.addingTimeInterval(-Self.clockSkew), commentContaining: Self.marker(request))
        {
            logger.notice(
                "adopting the EDR action an earlier attempt submitted but did not record",
                metadata: ["tenant": "\(request.tenant)", "request": "\(request.eventID)", "edrActionID": "\(earlier.id)"])
            request.edrActionID = earlier.id.rawValue
            return request
        }
        guard try await recordIntent(request, at: now) else { return nil }
        request.submittingSince = request.submittingSince ?? now
        let submission = try await submit(request, machine: machine, with: connector)
        var actionID = submission.actionID?.rawValue
        if actionID == nil {
            // Already in progress: adopt the running action when Defender lists it; otherwise poll for it later.
            actionID = try await connector.latestAction(machine: machine, type: type)?.id.rawValue
        }
        request.edrActionID = actionID
        return request
    }

    func submit(_ request: Request, machine: String, with connector: any EDRConnector) async throws(EDRError) -> EDRSubmission {
        let key = request.eventID.uuidString.lowercased()
        let incident = request.incident.map { "MDR incident \($0): " } ?? "MDR: "
        let marker = " " + Self.marker(request)
        switch request.action {
        case .isolate:
            let type = EDRIsolationType(rawValue: (request.isolationType ?? .full).rawValue) ?? .full
            return try await connector.isolate(machine: machine, type: type, comment: incident + request.comment + marker, idempotencyKey: key)
        case .release:
            return try await connector.release(machine: machine, comment: "MDR release: " + request.comment + marker, idempotencyKey: key)
        case .stopAndQuarantineFile:
            return try await connector.stopAndQuarantineFile(
                machine: machine, sha1: request.sha1 ?? "", comment: incident + request.comment + marker, idempotencyKey: key)
        }
    }

    // MARK: Record

    func metadata(_ request: Request) -> EventMetadata {
        EventMetadata(
            principal: Self.actor, correlationID: request.incident?.description, causationID: request.eventID.uuidString.lowercased())
    }

    /// Writes the intent to submit on the row, if this worker's lease still holds; returns whether it did.
    func recordIntent(_ request: Request, at now: Date) async throws -> Bool {
        let rows = try await store.database.client.query(
            """
            UPDATE response_actions SET submitting_since = coalesce(submitting_since, \(now)), machine_id = \(request.machineID), updated_at = now()
            WHERE tenant_id = \(request.tenant.rawValue) AND request_event_id = \(request.eventID) AND lease_token = \(request.leaseToken)
            RETURNING request_event_id
            """, logger: logger)
        for try await _ in rows.decode(UUID.self) { return true }
        logger.warning(
            "an EDR request was not submitted: this instance's lease ran out and another took the request over",
            metadata: ["tenant": "\(request.tenant)", "request": "\(request.eventID)"])
        return false
    }

    func recordSubmitted(_ request: Request, at now: Date) async throws {
        let event = DomainEvent.edrActionSubmitted(
            EDRActionSubmitted(
                deviceID: request.device, incidentID: request.incident, action: request.action, edrActionID: request.edrActionID,
                requestEventID: request.eventID, submittedAt: now))
        let next = now.addingTimeInterval(configuration.statusInterval.inSeconds)
        let update: PostgresQuery = """
            UPDATE response_actions SET status = 'submitted', machine_id = \(request.machineID), edr_action_id = \(request.edrActionID),
                attempts = 0, last_error = NULL, next_attempt_at = \(next), lease_until = NULL, lease_token = NULL, updated_at = now()
            WHERE tenant_id = \(request.tenant.rawValue) AND request_event_id = \(request.eventID) AND lease_token = \(request.leaseToken)
            RETURNING request_event_id
            """
        try await append(
            EventToAppend(event, eventID: Self.submittedEventID(tenant: request.tenant, request: request.eventID), metadata: metadata(request)),
            tenant: request.tenant, with: update)
        logger.notice(
            "EDR action submitted",
            metadata: ["tenant": "\(request.tenant)", "device": "\(request.device)", "action": "\(request.action.rawValue)",
                       "edrActionID": "\(request.edrActionID ?? "-")"])
    }

    func finish(_ request: Request, failure: Failure?, status: EDRActionStatus?, at now: Date) async throws {
        let actionID = failure?.edrActionID ?? request.edrActionID
        let event: DomainEvent
        switch (request.action, failure) {
        case (.isolate, nil):
            event = .deviceIsolated(DeviceIsolated(deviceID: request.device, incidentID: request.incident!, isolatedAt: now, edrActionID: actionID))
        case (.isolate, let failure?):
            event = .deviceIsolationFailed(
                DeviceIsolationFailed(deviceID: request.device, incidentID: request.incident!, reason: failure.reason, failedAt: now, edrActionID: actionID))
        case (.release, nil):
            event = .deviceReleased(DeviceReleased(deviceID: request.device, releasedAt: now, edrActionID: actionID))
        case (.release, let failure?):
            event = .deviceReleaseFailed(DeviceReleaseFailed(deviceID: request.device, reason: failure.reason, failedAt: now, edrActionID: actionID))
        case (.stopAndQuarantineFile, nil):
            event = .fileQuarantined(
                FileQuarantined(deviceID: request.device, incidentID: request.incident!, sha1: request.sha1 ?? "", quarantinedAt: now, edrActionID: actionID))
        case (.stopAndQuarantineFile, let failure?):
            event = .fileQuarantineFailed(
                FileQuarantineFailed(
                    deviceID: request.device, incidentID: request.incident!, sha1: request.sha1 ?? "", reason: failure.reason, failedAt: now,
                    edrActionID: actionID))
        }
        let eventID = Self.outcomeEventID(tenant: request.tenant, request: request.eventID)
        let update: PostgresQuery = """
            UPDATE response_actions SET status = 'done', machine_id = \(request.machineID), edr_action_id = \(actionID),
                edr_status = \(status?.rawValue), last_error = \(failure?.reason), outcome_event_id = \(eventID),
                lease_until = NULL, lease_token = NULL, updated_at = now()
            WHERE tenant_id = \(request.tenant.rawValue) AND request_event_id = \(request.eventID) AND lease_token = \(request.leaseToken)
            RETURNING request_event_id
            """
        try await append(EventToAppend(event, eventID: eventID, metadata: metadata(request)), tenant: request.tenant, with: update)
        let level: Logger.Level = failure == nil ? .notice : .warning
        logger.log(
            level: level, "EDR action finished",
            metadata: ["tenant": "\(request.tenant)", "device": "\(request.device)", "event": "\(event.type)", "reason": "\(failure?.reason ?? "-")"])
    }

    func reschedule(_ request: Request, after wait: Duration, status: EDRActionStatus?, error: String?, attempts: Int) async throws {
        let next = time.now().addingTimeInterval(wait.inSeconds)
        try await store.database.client.query(
            """
            UPDATE response_actions SET attempts = \(Int32(attempts)), last_error = \(error), next_attempt_at = \(next),
                edr_status = coalesce(\(status?.rawValue), edr_status), machine_id = \(request.machineID),
                edr_action_id = \(request.edrActionID), lease_until = NULL, lease_token = NULL, updated_at = now()
            WHERE tenant_id = \(request.tenant.rawValue) AND request_event_id = \(request.eventID) AND lease_token = \(request.leaseToken)
            """, logger: logger)
    }

    /// Appends `event` and runs `update` (which must return the row it settled) in one transaction, if this worker's
    /// lease on the row still holds (`LeasedQueue.settle`); otherwise records nothing: another worker has the request.
    func append(_ event: EventToAppend, tenant: TenantID, with update: PostgresQuery) async throws {
        let logger = self.logger
        let settled = try await queue.settle(
            [event.eventID], store: store,
            update: { connection in
                var rows = 0
                for try await _ in try await connection.query(update, logger: logger).decode(UUID.self) { rows += 1 }
                return rows > 0 ? [event.eventID] : []
            },
            events: { _ in (tenant, [event]) })
        if settled.isEmpty {
            logger.warning("an EDR outcome was not recorded: this instance's lease ran out and another took the request over",
                metadata: ["tenant": "\(tenant)", "event": "\(event.type)"])
        }
    }

    // MARK: Helpers

    static func edrType(_ action: ResponseActionKind) -> EDRActionType {
        switch action {
        case .isolate: .isolate
        case .release: .unisolate
        case .stopAndQuarantineFile: .stopAndQuarantineFile
        }
    }

    /// The failure reason for a permanent EDR error: what happened, in the words the SOC acts on.
    static func reason(for error: EDRError) -> String {
        switch error.code {
        case .unauthorized: "credentials refused: \(error.message)"
        case .forbidden: "permission missing: \(error.message)"
        case .machineNotFound: "machine not found: \(error.message)"
        case .actionNotFound: "action not found: \(error.message)"
        case .rateLimited, .unavailable, .timeout: "Defender unreachable until the deadline: \(error.description)"
        default: error.description
        }
    }
}
