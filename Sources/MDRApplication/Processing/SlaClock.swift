import Foundation
import Logging
import MDRDomain
import MDRStore
import PostgresNIO
import ServiceLifecycle

/// Appends `SlaBreached` when an SLA deadline passes without its stopping event: exactly once per timer, across
/// restarts and instances, and within a second of the deadline while it runs.
///
/// Reads the timers of the `sla-timers` projection (`sla_timer_view`, `0003_sla.sql`), which it never writes: the
/// view records a breach when the pipeline hands it the `SlaBreached` event (one owner per table). Per tenant, one
/// transaction:
/// 1. locks the tenant's head row, so no event of the tenant commits while the clock decides;
/// 2. defers the tenant when an event that moves timers (`SlaFact.eventTypes`) or a breach lies past the view's
///    position — a confirmation in the log but not yet in the view must not be reported as a breach, and a breach
///    appended but not yet in the view must not be appended again;
/// 3. claims the due timers with `FOR UPDATE SKIP LOCKED` and appends one `SlaBreached` per timer to the incident's
///    stream with an id derived from (tenant, incident, target, deadline), skipping ids already in the log.
///
/// The clock does not wake on appends: it sleeps until the next deadline, at most the poll interval. Time comes from a
/// `TimeSource`; tests drive `runOnce()` with a manual clock.
public final class SlaClock: Service, Sendable {
    let store: EventStore
    let time: any TimeSource
    let pollInterval: Duration
    let batchSize: Int
    let logger: Logger
    let health: WorkerHealth?
    /// Wakes the clock before its next deadline (tests, shutdown); nothing else needs to.
    public let wakeup = Wakeup()

    /// Who breaches are appended as.
    public static let actor = Principal.system("sla-clock")
    /// The projection whose rows the clock reads (`SlaTimerProjection.projectionName`).
    public static let projection = "sla-timers"

    /// The outcome of one round.
    public struct Round: Sendable, Equatable {
        /// Breach events appended.
        public var appended: Int
        /// Tenants skipped because the timer view had not yet read events that move timers.
        public var deferred: Int

        public init(appended: Int, deferred: Int) {
            self.appended = appended
            self.deferred = deferred
        }
    }

    public init(
        store: EventStore, time: any TimeSource, pollInterval: Duration = .seconds(1), batchSize: Int = 500, health: WorkerHealth? = nil,
        logger: Logger
    ) {
        self.store = store
        self.health = health
        self.time = time
        self.pollInterval = pollInterval
        self.batchSize = batchSize
        var logger = logger
        logger[metadataKey: "component"] = "sla-clock"
        self.logger = logger
    }

    /// Runs until graceful shutdown: a round, then a wait until the next deadline (at most the poll interval), or —
    /// when a tenant was deferred — a short pause for the view to catch up.
    public func run() async throws {
        await RoundLoop.run(wakeup: wakeup, pollInterval: pollInterval, health: health, logger: logger, what: "SLA clock") {
            let round = try await self.runOnce()
            if round.appended > 0 { return .busy }
            if round.deferred > 0 { return RoundOutcome(more: false, nextDue: .milliseconds(20)) }
            guard let next = try await self.nextDeadline() else { return .idle }
            // Due the moment `now` is past the deadline: wake just after it.
            let seconds = max(0, next.timeIntervalSince(self.time.now())) + 0.001
            return RoundOutcome(more: false, nextDue: .milliseconds(Int64((seconds * 1000).rounded(.up))))
        }
    }

    /// One round at `time.now()` over every tenant with a due timer.
    @discardableResult
    public func runOnce() async throws -> Round {
        // At the log's precision (milliseconds), so the row the clock marks equals the one the projection writes
        // from the event.
        let now = Timestamp.parse(Timestamp.format(time.now()))!
        var round = Round(appended: 0, deferred: 0)
        for tenant in try await tenantsWithDueTimers(at: now) {
            if let appended = try await fire(tenant, at: now) {
                round.appended += appended
            } else {
                round.deferred += 1
            }
        }
        return round
    }

    /// The earliest deadline of a running timer whose breach is not recorded (nil when none): when to look next.
    public func nextDeadline() async throws -> Date? {
        let rows = try await store.database.client.query(
            "SELECT min(deadline) FROM sla_timer_view WHERE breach_event_id IS NULL AND stopped_at IS NULL", logger: logger)
        for try await deadline in rows.decode(Date?.self) { return deadline }
        return nil
    }

    /// The id of the breach event of a timer: the same for every instance and every retry.
    public static func breachEventID(tenant: TenantID, incident: IncidentID, target: SlaTargetKind, deadline: Date) -> UUID {
        derivedUUID("sla-breach", tenant.rawValue, incident.description, target.rawValue, Timestamp.format(deadline))
    }

    // MARK: Rounds


    func tenantsWithDueTimers(at now: Date) async throws -> [TenantID] {
        let rows = try await store.database.client.query(
            """
            SELECT DISTINCT tenant_id FROM sla_timer_view
            WHERE breach_event_id IS NULL AND deadline < \(now) AND (stopped_at IS NULL OR stopped_at > deadline)
            ORDER BY tenant_id LIMIT 500
            """, logger: logger)
        var tenants: [TenantID] = []
        for try await raw in rows.decode(String.self) {
            if let id = TenantID(rawValue: raw) { tenants.append(id) }
        }
        return tenants
    }

    /// Appends the breaches of one tenant's due timers; nil when deferred (the view is behind the log).
    func fire(_ tenant: TenantID, at now: Date) async throws -> Int? {
        let outcome: (count: Int, last: Int64?)? = try await transaction { connection in
            var head: Int64 = 0
            for try await position in try await connection.query(
                "SELECT last_position FROM tenant_heads WHERE tenant_id = \(tenant.rawValue) FOR UPDATE", logger: self.logger
            ).decode(Int64.self) {
                head = position
            }
            var checkpoint: Int64 = 0
            for try await position in try await connection.query(
                "SELECT position FROM consumer_checkpoints WHERE tenant_id = \(tenant.rawValue) AND consumer = \(Self.projection)",
                logger: self.logger
            ).decode(Int64.self) {
                checkpoint = position
            }
            if checkpoint < head {
                var behind = false
                for try await _ in try await connection.query(
                    """
                    SELECT 1 FROM events WHERE tenant_id = \(tenant.rawValue) AND position > \(checkpoint) AND position <= \(head)
                    AND type = ANY(\(SlaFact.eventTypes + [SlaBreached.eventType])::text[]) LIMIT 1
                    """, logger: self.logger
                ).decode(Int.self) {
                    behind = true
                }
                if behind { return nil }
            }

            var due: [(incident: IncidentID, target: SlaTargetKind, priority: Priority, sla: ServiceLevel, version: String, deadline: Date)] = []
            for try await (incident, target, priority, sla, version, deadline) in try await connection.query(
                """
                SELECT incident_id, target, priority, sla, policy_version, deadline FROM sla_timer_view
                WHERE tenant_id = \(tenant.rawValue) AND breach_event_id IS NULL AND deadline < \(now)
                  AND (stopped_at IS NULL OR stopped_at > deadline)
                ORDER BY deadline, incident_id, target LIMIT \(self.batchSize)
                FOR UPDATE SKIP LOCKED
                """, logger: self.logger
            ).decode((UUID, String, String, String, String, Date).self) {
                guard let target = SlaTargetKind(rawValue: target), let priority = Priority(rawValue: priority),
                    let sla = ServiceLevel(rawValue: sla)
                else { continue }
                due.append((IncidentID(rawValue: incident), target, priority, sla, version, deadline))
            }
            guard !due.isEmpty else { return (0, nil) }

            let ids = due.map { Self.breachEventID(tenant: tenant, incident: $0.incident, target: $0.target, deadline: $0.deadline) }
            var inLog = Set<UUID>()
            for try await id in try await connection.query(
                "SELECT event_id FROM events WHERE tenant_id = \(tenant.rawValue) AND event_id = ANY(\(ids)::uuid[])", logger: self.logger
            ).decode(UUID.self) {
                inLog.insert(id)
            }
            let metadata = EventMetadata(principal: Self.actor)
            var events: [EventToAppend] = []
            for (timer, id) in zip(due, ids) where !inLog.contains(id) {
                let breach = SlaBreached(
                    incidentID: timer.incident, target: timer.target, priority: timer.priority, sla: timer.sla, deadline: timer.deadline,
                    breachedAt: now, policyVersion: timer.version)
                var meta = metadata
                meta.correlationID = timer.incident.description
                events.append(EventToAppend(.slaBreached(breach), eventID: id, metadata: meta))
            }
            var last: Int64? = nil
            if !events.isEmpty {
                last = try await self.store.append(tenant: tenant, events: events, expectations: [:], command: nil, on: connection).lastPosition
            }
            return (events.count, last)
        }
        guard let outcome else { return nil }
        if let last = outcome.last {
            store.signal.appended(tenant: tenant, position: last)
            logger.notice("SLA breaches recorded", metadata: ["tenant": "\(tenant)", "count": "\(outcome.count)"])
        }
        return outcome.count
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await store.database.client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }
}
