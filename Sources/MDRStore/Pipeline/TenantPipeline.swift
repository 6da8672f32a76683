import Foundation
import Logging
import MDRDomain
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Follows every tenant's log for a set of consumers (views and process managers): per tenant and round, ONE claim,
/// ONE page read, each event decoded ONCE, handed in log order to every consumer that wants it; their writes, their
/// reactions and every consumer's new position commit in one transaction. See docs/architecture.md.
///
/// - **Claim.** A round locks the tenant's `consumer_checkpoints` rows of its consumers with `FOR UPDATE SKIP LOCKED`:
///   several instances (and a rebuild beside a running service) cooperate without a coordinator. Each position moves as
///   a compare-and-set on the value read, so a stale write is refused (`stale_checkpoint`) and rolls back.
/// - **Reactions in the same round.** Events a process manager emits (the correlator's `IncidentOpened`) are appended
///   at the end of the round. When they land right after the page (no other append came between), every consumer gets
///   them in the same round, without decoding them, and the positions move past them; otherwise the next round reads
///   them. The append is the round's last write but the views' rows for the reactions, so the tenant's head row is
///   locked only briefly.
/// - **A consumer that fails is parked, not the pipeline.** Its error rolls the round back; the round runs again
///   without it, and it is tried alone, on smaller and smaller pages, until the event it fails on is found. Then it is
///   parked on that event (`consumer_checkpoints.failures`, `failing_position`, `last_error`, `retry_at`), shown by
///   `ConsumerLag` (`mdr projections lag`, `/metrics`), and tried again with a back-off. Database errors of the
///   connection or the server's state (connection lost, deadlock, shutdown, read-only) are not a consumer's fault: the
///   round fails and is retried as a whole.
/// - **Laggards catch up apart.** Consumers far behind the others (a view being rebuilt, a new one) catch up in rounds
///   of their own (together, when they are at about the same position), so the others are not held back.
/// - **Work** is found from the local appends (`AppendListener`: no query per append), and by asking the database
///   after another instance's NOTIFY and every poll interval.
public final class TenantPipeline: Service, Sendable {
    public struct Configuration: Sendable {
        /// How often the database is asked for tenants with work when no wake-up arrived (the polling fallback).
        public var pollInterval: Duration
        /// Events read per round (at most).
        public var pageSize: Int
        /// Tenants worked on at once, each round in its own transaction on its own connection.
        public var concurrency: Int
        /// The first wait before a parked consumer is tried again; doubled per failure up to `maximumRetryDelay`.
        public var retryDelay: Duration
        public var maximumRetryDelay: Duration
        /// The longest a round may take. Past it the round's connection is closed (a query on a connection the server
        /// closed may otherwise wait for ever), the round fails, and it is retried on another connection.
        public var roundTimeout: Duration
        /// How long the pipeline, woken from idle by an append, waits for more appends before its round: under a steady
        /// trickle of single-signal requests a round then takes several at once instead of one each.
        public var linger: Duration

        public init(
            pollInterval: Duration = .seconds(1), pageSize: Int = 2000, concurrency: Int = 4, retryDelay: Duration = .seconds(1),
            maximumRetryDelay: Duration = .seconds(300), roundTimeout: Duration = .seconds(60), linger: Duration = .milliseconds(10)
        ) {
            self.pollInterval = pollInterval
            self.pageSize = max(1, pageSize)
            self.concurrency = max(1, concurrency)
            self.retryDelay = retryDelay
            self.maximumRetryDelay = maximumRetryDelay
            self.roundTimeout = roundTimeout
            self.linger = linger
        }
    }

    /// The consumers, in the order they are called in a round (process managers first: their reactions then reach the
    /// views in the same round).
    public let consumers: [any LogConsumer]
    public let store: EventStore
    public let configuration: Configuration
    public let statistics: PipelineStatistics
    let health: WorkerHealth?
    let logger: Logger

    private struct Local {
        /// Tenants whose checkpoint rows exist for every consumer.
        var initialized: Set<TenantID> = []
        /// Consumers being narrowed down to the event they fail on: the end of the smallest range known to hold it.
        var suspects: [Suspect: Int64] = [:]
        /// Tenants that had more work at the end of the last pass.
        var carry: Set<TenantID> = []
        var lastScan: ContinuousClock.Instant?
        var prepared = false
    }

    private struct Suspect: Hashable {
        var tenant: TenantID
        var consumer: String
    }

    private let local = Mutex(Local())

    public init(
        _ consumers: [any LogConsumer], store: EventStore, configuration: Configuration = Configuration(),
        statistics: PipelineStatistics = PipelineStatistics(), health: WorkerHealth? = nil, logger: Logger
    ) {
        self.health = health
        precondition(Set(consumers.map(\.name)).count == consumers.count, "consumer names must be unique")
        self.consumers = consumers
        self.store = store
        self.configuration = configuration
        self.statistics = statistics
        var logger = logger
        logger[metadataKey: "component"] = "pipeline"
        self.logger = logger
    }

    var names: [String] { consumers.map(\.name) }

    // MARK: Running

    /// Runs until graceful shutdown: first rebuilds views whose schema version changed, then follows the logs.
    public func run() async throws {
        let listener = store.signal.makeListener()
        await RoundLoop.run(
            wakeup: store.signal.wakeup, pollInterval: configuration.pollInterval, health: health, logger: logger, what: "pipeline") {
            if !self.local.withLock({ $0.prepared }) {
                try await self.prepare()
                self.local.withLock { $0.prepared = true }
            }
            return try await self.runOnce(listener: listener)
        }
    }

    /// One pass over the tenants a listener heard of, the tenants left with work by the last pass and, after another
    /// instance's announcement or once per poll interval, every tenant the database says has work.
    func runOnce(listener: AppendListener) async throws -> RoundOutcome {
        let clock = ContinuousClock()
        if configuration.linger > .zero, local.withLock({ $0.carry.isEmpty }) {
            try await Task.sleep(for: configuration.linger)
        }
        let (heard, remote) = listener.take()
        let (carry, lastScan) = local.withLock { ($0.carry, $0.lastScan) }
        var tenants = heard.union(carry)
        let scanDue = lastScan.map { clock.now - $0 >= configuration.pollInterval } ?? true
        if remote || scanDue {
            tenants.formUnion(try await withDeadline(configuration.roundTimeout) { try await self.tenantsWithWork() })
            local.withLock { $0.lastScan = clock.now }
        }
        guard !tenants.isEmpty else {
            let sinceScan = lastScan.map { clock.now - $0 } ?? .zero
            return RoundOutcome(more: false, nextDue: configuration.pollInterval - sinceScan)
        }
        let results = try await process(Array(tenants).sorted { $0.rawValue < $1.rawValue })
        let more = Set(results.filter { $0.value.more }.map(\.key))
        local.withLock { $0.carry = more }
        return RoundOutcome(more: !more.isEmpty)
    }

    /// One pass over every tenant with work; returns how many log positions the consumers moved in total.
    @discardableResult
    public func runOnce() async throws -> Int {
        let results = try await process(try await tenantsWithWork())
        return results.values.reduce(0) { $0 + $1.moved }
    }

    /// Runs passes until no consumer has work left (tests, `mdr projections rebuild`). Parked consumers are not waited
    /// for.
    public func drain() async throws {
        while try await process(try await tenantsWithWork()).values.contains(where: { $0.moved > 0 || $0.more }) {}
    }

    /// The tenants where a consumer of this pipeline is behind the head and not waiting for a retry.
    func tenantsWithWork() async throws -> [TenantID] {
        let rows = try await store.database.client.query(
            """
            SELECT h.tenant_id FROM tenant_heads h
            WHERE EXISTS (
                SELECT 1 FROM unnest(\(names)::text[]) AS n(name)
                LEFT JOIN consumer_checkpoints c ON c.tenant_id = h.tenant_id AND c.consumer = n.name
                WHERE h.last_position > coalesce(c.position, 0) AND (c.retry_at IS NULL OR c.retry_at <= now()))
            ORDER BY h.tenant_id LIMIT 1000
            """, logger: logger)
        var tenants: [TenantID] = []
        for try await raw in rows.decode(String.self) {
            if let id = TenantID(rawValue: raw) { tenants.append(id) }
        }
        return tenants
    }

    struct TenantProgress: Sendable {
        var moved = 0
        var more = false
    }

    /// Works on `tenants`, `configuration.concurrency` at a time.
    func process(_ tenants: [TenantID]) async throws -> [TenantID: TenantProgress] {
        try await withThrowingTaskGroup(of: (TenantID, TenantProgress).self) { group in
            var pending = tenants[...]
            var results: [TenantID: TenantProgress] = [:]
            for _ in 0..<min(configuration.concurrency, pending.count) {
                let tenant = pending.removeFirst()
                group.addTask { (tenant, try await self.process(tenant)) }
            }
            while let (tenant, progress) = try await group.next() {
                results[tenant] = progress
                if let next = pending.popFirst() { group.addTask { (next, try await self.process(next)) } }
            }
            return results
        }
    }

    /// One round of the consumers at the front, then one for each other group: consumers at about the same position
    /// behind them, and each suspect or parked consumer due for a retry, alone.
    func process(_ tenant: TenantID) async throws -> TenantProgress {
        var progress = TenantProgress()
        let front = try await round(tenant, only: nil)
        progress.moved += front.moved
        progress.more = front.more
        for group in front.apart {
            let behind = try await round(tenant, only: group)
            progress.moved += behind.moved
            progress.more = progress.more || behind.more
        }
        return progress
    }

    // MARK: Rounds

    struct RoundResult: Sendable {
        /// Positions moved, summed over the consumers.
        var moved = 0
        /// The page was full, or a consumer was set aside: run again.
        var more = false
        /// Groups of consumers to run apart after this round.
        var apart: [Set<String>] = []
    }

    /// A claimed checkpoint row.
    struct Claimed: Sendable {
        var name: String
        var position: Int64
        var failures: Int
        var failingPosition: Int64?
        /// Waiting for its retry time.
        var waiting: Bool
    }

    /// A consumer's error, with what it was handling.
    struct ConsumerFailed: Error {
        var consumer: String
        var error: any Error
        /// The positions of the events it was handed.
        var positions: [Int64]
    }

    /// One round over `tenant`: the consumers at the front (`only` nil), or a group found by such a round.
    func round(_ tenant: TenantID, only: Set<String>?) async throws -> RoundResult {
        try await ensureCheckpoints(tenant)
        let notes = RoundNotes()
        let counter = EventDecodeCounter()
        let started = ContinuousClock.now
        do {
            let outcome: Committed? = try await withDeadline(
                configuration.roundTimeout,
                onTimeout: {
                    self.logger.error(
                        "a pipeline round took longer than \(self.configuration.roundTimeout); its connection is closed and the round retried",
                        metadata: ["tenant": "\(tenant)"])
                    try? await notes.connection?.close()
                }
            ) {
                try await counter.count {
                    try await self.transaction { connection in
                        notes.connection = connection
                        return try await self.runRound(tenant, only: only, on: connection, notes: notes)
                    }
                }
            }
            statistics.recordRound(decoded: counter.count, read: outcome?.read ?? 0, took: ContinuousClock.now - started, failed: false)
            var result = notes.result
            guard let outcome else {
                return result
            }
            if let round = notes.round {
                for (consumer, _) in notes.group { consumer.roundEnded(round, committedAt: outcome.reached) }
            }
            // Past the range a suspect failed on: it was not that event after all (or it works now).
            local.withLock { state in
                for (consumer, _) in notes.group {
                    let key = Suspect(tenant: tenant, consumer: consumer.name)
                    if let bad = state.suspects[key], outcome.reached >= bad { state.suspects[key] = nil }
                }
            }
            for body in outcome.afterCommit { body() }
            if let last = outcome.appended { store.signal.appended(tenant: tenant, position: last) }
            result.moved += outcome.moved
            return result
        } catch {
            statistics.recordRound(decoded: counter.count, read: 0, took: ContinuousClock.now - started, failed: true)
            if let round = notes.round {
                for (consumer, _) in notes.group { consumer.roundEnded(round, committedAt: nil) }
            }
            guard let failed = error as? ConsumerFailed else { throw error }
            let alone = notes.group.count == 1
            let parked = try await handle(failed, tenant: tenant, alone: alone)
            var result = notes.result
            // Narrowing down goes on at once; a parked consumer waits for its retry.
            result.more = !parked
            if !alone { result.apart.append([failed.consumer]) }
            return result
        }
    }

    /// What a committed round did.
    struct Committed: Sendable {
        var reached: Int64
        var moved: Int
        var read: Int
        var appended: Int64?
        var afterCommit: [@Sendable () -> Void]
    }

    /// What a round learnt before it committed or failed: who took part, who runs alone next.
    final class RoundNotes: Sendable {
        private let state = Mutex<(result: RoundResult, group: [(consumer: any LogConsumer, position: Int64)])>((RoundResult(), []))
        private let current = Mutex<PostgresConnection?>(nil)
        private let handedOut = Mutex<PipelineRound?>(nil)
        /// The round the consumers were given, once they were.
        var round: PipelineRound? {
            get { handedOut.withLock { $0 } }
            set { handedOut.withLock { $0 = newValue } }
        }
        /// The round's connection, to close when the round overruns its deadline.
        var connection: PostgresConnection? {
            get { current.withLock { $0 } }
            set { current.withLock { $0 = newValue } }
        }
        var result: RoundResult {
            get { state.withLock { $0.result } }
            set { state.withLock { $0.result = newValue } }
        }
        var group: [(consumer: any LogConsumer, position: Int64)] {
            get { state.withLock { $0.group } }
            set { state.withLock { $0.group = newValue } }
        }
    }

    private func runRound(_ tenant: TenantID, only: Set<String>?, on connection: PostgresConnection, notes: RoundNotes) async throws -> Committed? {
        let wanted = only.map { Array($0).sorted() } ?? names
        var claimed: [Claimed] = []
        var head: Int64 = 0
        // The round commits asynchronously (`synchronous_commit = off`, set in the claim's statement): what it writes
        // is derived from the log and redone if a crash loses it (its positions are lost with it), and any later
        // durable commit flushes it first. Its commit, which ends its hold on the tenant's head row when it appended
        // reactions, then does not wait for the disk: ingests of that tenant queue behind it for less.
        for try await (name, position, failures, failing, waiting, last) in try await connection.query(
            """
            WITH async AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))
            SELECT c.consumer, c.position, c.failures, c.failing_position, coalesce(c.retry_at > now(), false), h.last_position
            FROM async, consumer_checkpoints c JOIN tenant_heads h ON h.tenant_id = c.tenant_id
            WHERE c.tenant_id = \(tenant.rawValue) AND c.consumer = ANY(\(wanted)::text[])
            FOR UPDATE OF c SKIP LOCKED
            """, logger: logger
        ).decode((String, Int64, Int32, Int64?, Bool, Int64).self) {
            claimed.append(Claimed(name: name, position: position, failures: Int(failures), failingPosition: failing, waiting: waiting))
            head = last
        }

        // Who takes part: the front (the consumers at the highest positions, within half a page of each other), or the
        // group asked for. A suspect (narrowed down to the end of a range it failed on, `knownBad`) or a parked consumer
        // due for a retry always runs alone.
        let suspects = local.withLock { state in Set(state.suspects.keys.filter { $0.tenant == tenant }.map(\.consumer)) }
        let runnable = claimed.filter { !$0.waiting && $0.position < head }
        func isSuspect(_ c: Claimed) -> Bool { c.failures > 0 || suspects.contains(c.name) }
        var takingPart: [Claimed]
        var knownBad: Int64? = nil
        if let only {
            takingPart = runnable.filter { only.contains($0.name) }
            if takingPart.count == 1, let mine = takingPart.first, isSuspect(mine) {
                knownBad = local.withLock { $0.suspects[Suspect(tenant: tenant, consumer: mine.name)] } ?? mine.failingPosition
            }
        } else {
            let slack = Int64(max(1, configuration.pageSize / 2))
            var clusters: [[Claimed]] = []
            for c in runnable.filter({ !isSuspect($0) }).sorted(by: { $0.position > $1.position }) {
                if let first = clusters.last?.first, first.position - c.position <= slack {
                    clusters[clusters.count - 1].append(c)
                } else {
                    clusters.append([c])
                }
            }
            takingPart = clusters.first ?? []
            notes.result.apart = clusters.dropFirst().map { Set($0.map(\.name)) } + runnable.filter(isSuspect).map { [$0.name] }
        }
        takingPart.removeAll { $0.position >= head }
        guard !takingPart.isEmpty else { return nil }
        let group: [(consumer: any LogConsumer, position: Int64)] = consumers.compactMap { consumer in
            takingPart.first { $0.name == consumer.name }.map { (consumer, $0.position) }
        }
        notes.group = group

        // The page: read once, decoded once.
        let from = group.map(\.position).min()!
        var types: Set<String>? = []
        for (consumer, _) in group {
            guard let mine = consumer.eventTypes, types != nil else {
                types = nil
                break
            }
            types!.formUnion(mine)
        }
        let page = try await store.readLog(
            tenant: tenant, after: from, limit: configuration.pageSize, types: types.map { Array($0).sorted() }, on: connection)
        // Positions are gap-free and handed out in commit order: a short page has seen every event up to the head as
        // read above; a full page ends at its last event.
        var end = page.count < configuration.pageSize ? head : page[page.count - 1].position
        if let knownBad, let (consumer, position) = group.first {
            // Halve the range it failed on: up to the middle of the events it wants there.
            let suspects = page.filter { $0.position > position && $0.position <= min(end, knownBad) && consumer.wants($0.type, $0.metadata.actor) }
            if !suspects.isEmpty { end = suspects[(suspects.count + 1) / 2 - 1].position }
        }
        if page.count >= configuration.pageSize || end < head { notes.result.more = true }
        let eventList = Array(page.lazy.filter { $0.position <= end }.map(PipelineEvent.init))

        let round = PipelineRound(
            tenant: tenant, connection: connection, store: store, positions: Dictionary(uniqueKeysWithValues: group.map { ($0.consumer.name, $0.position) }),
            logger: logger)
        notes.round = round
        for (consumer, position) in group {
            let mine = eventList.filter { $0.position > position && consumer.wants($0) }
            try await call(consumer, mine, round)
        }

        // Reactions: the append is the round's last write, so the tenant's head row — which every append of the tenant
        // waits for — is held only from it to the commit. When nothing was appended since the page was read, the
        // reactions will follow the page directly: every consumer gets them in this round, at the positions they will
        // have, before the append (inside a savepoint, undone if another append got in first after all).
        let pending = round.emissions
        round.emissions = []
        let positions = group.map { ($0.consumer.name, $0.position) }
        guard !pending.isEmpty else {
            try await advance(tenant, positions, to: end, on: connection)
            return Committed(reached: end, moved: group.reduce(0) { $0 + Int(end - $1.position) }, read: eventList.count, appended: nil, afterCommit: round.afterCommit)
        }
        var headNow: Int64 = -1
        var now = Date()
        for try await (position, at) in try await connection.query(
            "SELECT last_position, now() FROM tenant_heads WHERE tenant_id = \(tenant.rawValue)", logger: logger
        ).decode((Int64, Date).self) {
            (headNow, now) = (position, at)
        }
        if headNow == end {
            let saved = round.saved()
            try await connection.query("SAVEPOINT mdr_reactions", logger: logger)
            let fed = pending.enumerated().map { index, item in
                let a = item.emission.appended
                return PipelineEvent(
                    RecordedEvent(
                        tenant: tenant, position: end + 1 + Int64(index), stream: a.stream, version: 0, eventID: a.eventID, type: a.type,
                        schemaVersion: a.schemaVersion, data: a.data, metadata: a.metadata, recordedAt: now, hash: Data()),
                    event: item.emission.event)
            }
            for (consumer, _) in group {
                try await call(consumer, fed.filter { consumer.wants($0) }, round)
            }
            // What the consumers emitted in reply is appended too, after the reactions; the next round reads it.
            let reached = end + Int64(pending.count)
            let all = pending + round.emissions
            round.emissions = []
            try await advance(tenant, positions, to: reached, on: connection)
            let result = try await appendReactions(all, tenant: tenant, on: connection, page: eventList)
            if result.firstPosition == end + 1 {
                return Committed(
                    reached: reached, moved: group.reduce(0) { $0 + Int(reached - $1.position) }, read: eventList.count,
                    appended: result.lastPosition, afterCommit: round.afterCommit)
            }
            // Another append got in between: undo what the consumers did with the reactions; the next round reads them.
            try await connection.query("ROLLBACK TO SAVEPOINT mdr_reactions", logger: logger)
            round.restore(saved)
        }
        try await advance(tenant, positions, to: end, on: connection)
        let result = try await appendReactions(pending, tenant: tenant, on: connection, page: eventList)
        return Committed(
            reached: end, moved: group.reduce(0) { $0 + Int(end - $1.position) }, read: eventList.count, appended: result.lastPosition,
            afterCommit: round.afterCommit)
    }

    /// Appends the process managers' reactions; a refusal is the fault of the consumer that emitted them.
    private func appendReactions(
        _ emitted: [(consumer: String, emission: Emission)], tenant: TenantID, on connection: PostgresConnection, page: [PipelineEvent]
    ) async throws -> AppendResult {
        do {
            return try await store.append(tenant: tenant, events: emitted.map(\.emission.appended), expectations: [:], command: nil, on: connection)
        } catch {
            guard !Self.isTransient(error), let emitter = emitted.first?.consumer else { throw error }
            throw ConsumerFailed(consumer: emitter, error: error, positions: page.map(\.position))
        }
    }

    private func call(_ consumer: any LogConsumer, _ events: [PipelineEvent], _ round: PipelineRound) async throws {
        guard !events.isEmpty else { return }
        round.current = consumer.name
        do {
            try await consumer.consume(events, in: round)
        } catch {
            if Self.isTransient(error) { throw error }
            throw ConsumerFailed(consumer: consumer.name, error: error, positions: events.map(\.position))
        }
    }

    /// Moves every consumer of the round from the position it was claimed at to `reached`, or refuses the round
    /// (`stale_checkpoint`) when one of them is no longer where it was read.
    func advance(_ tenant: TenantID, _ from: [(name: String, position: Int64)], to reached: Int64, on connection: PostgresConnection) async throws {
        var moved = 0
        for try await _ in try await connection.query(
            """
            UPDATE consumer_checkpoints c SET position = \(reached), updated_at = now(), failures = 0, failing_position = NULL,
                retry_at = NULL, last_error = NULL
            FROM unnest(\(from.map(\.name))::text[], \(from.map(\.position))::bigint[]) AS u(name, old)
            WHERE c.tenant_id = \(tenant.rawValue) AND c.consumer = u.name AND c.position = u.old
            RETURNING c.consumer
            """, logger: logger
        ).decode(String.self) {
            moved += 1
        }
        guard moved == from.count else {
            throw PipelineError(
                .staleCheckpoint,
                "the positions of \(from.map(\.name).joined(separator: ", ")) for tenant '\(tenant)' moved since they were read: another instance handled these events")
        }
    }

    /// Creates the checkpoint rows of every consumer for a tenant this instance has not seen yet.
    func ensureCheckpoints(_ tenant: TenantID) async throws {
        guard !local.withLock({ $0.initialized.contains(tenant) }) else { return }
        try await store.database.client.query(
            """
            INSERT INTO consumer_checkpoints (tenant_id, consumer)
            SELECT \(tenant.rawValue), n.name FROM unnest(\(names)::text[]) AS n(name)
            ON CONFLICT DO NOTHING
            """, logger: logger)
        local.withLock { _ = $0.initialized.insert(tenant) }
    }

    // MARK: Failures

    /// A consumer failed in a round (which rolled back). In a round with others, it is set aside to run alone; alone, it
    /// is narrowed down to half of what it was handed, until the one event it fails on is known: then it is parked on
    /// it, with a back-off before the next try.
    /// Returns whether it is parked.
    private func handle(_ failed: ConsumerFailed, tenant: TenantID, alone: Bool) async throws -> Bool {
        let key = Suspect(tenant: tenant, consumer: failed.consumer)
        let positions = failed.positions.sorted()
        statistics.recordFailure()
        guard alone, positions.count <= 1 else {
            // The failure lies among the events it was handed: the next rounds, alone, try halves of them.
            local.withLock { $0.suspects[key] = positions.last }
            logger.warning(
                "a consumer failed; it goes on alone to find the event it fails on",
                metadata: ["consumer": "\(failed.consumer)", "tenant": "\(tenant)", "error": "\(String(reflecting: failed.error))"])
            return false
        }
        let failing = positions.first
        let message = String(String(reflecting: failed.error).prefix(2000))
        let failures = try await transaction { connection in
            var failures = 0
            for try await count in try await connection.query(
                """
                UPDATE consumer_checkpoints SET failures = failures + 1, failing_position = \(failing), last_error = \(message),
                    retry_at = now() + make_interval(secs => least(\(self.configuration.retryDelay.inSeconds) * power(2, failures),
                                                                   \(self.configuration.maximumRetryDelay.inSeconds))),
                    updated_at = now()
                WHERE tenant_id = \(tenant.rawValue) AND consumer = \(failed.consumer)
                RETURNING failures
                """, logger: self.logger
            ).decode(Int32.self) {
                failures = Int(count)
            }
            return failures
        }
        local.withLock { $0.suspects[key] = failing }
        logger.error(
            "a consumer is parked on an event it fails on; the others go on",
            metadata: [
                "consumer": "\(failed.consumer)", "tenant": "\(tenant)", "position": "\(failing.map(String.init) ?? "-")",
                "failures": "\(failures)", "error": "\(message)",
            ])
        return true
    }

    /// Errors of the connection or of the server's state, not of what a consumer did: the round is retried as a whole.
    public static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case is CancellationError, is DeadlineExceeded, is ConnectionLost:
            return true
        case let error as PostgresTransactionError:
            return [error.closureError, error.beginError, error.commitError, error.rollbackError].contains { $0.map(isTransient) ?? false }
        case let error as PSQLError:
            guard let state = error.serverInfo?[.sqlState] else { return true }
            // 08 connection, 40 rollback (deadlock, serialization), 53 resources, 57 operator (shutdown, cancel),
            // 58 system; 55P03 lock not available; 25006 read-only transaction (a standby); 25P03 idle timeout.
            return ["08", "40", "53", "57", "58"].contains(String(state.prefix(2))) || ["55P03", "25006", "25P03"].contains(state)
        default:
            return false
        }
    }

    // MARK: Views

    /// Records each view's schema version, and resets a view whose rows were built with another one (the rounds that
    /// follow replay it). Safe with several instances starting at once: the version row is locked.
    public func prepare() async throws {
        for case let projection as any Projection in consumers {
            let name = projection.name
            let version = projection.version
            try await transaction { connection in
                try await connection.query(
                    "INSERT INTO projection_versions (projection, version) VALUES (\(name), \(version)) ON CONFLICT DO NOTHING",
                    logger: self.logger)
                var stored = version
                for try await v in try await connection.query(
                    "SELECT version FROM projection_versions WHERE projection = \(name) FOR UPDATE", logger: self.logger
                ).decode(Int.self) {
                    stored = v
                }
                guard stored != version else { return }
                self.logger.notice(
                    "projection schema changed; rebuilding", metadata: ["projection": "\(name)", "from": "\(stored)", "to": "\(version)"])
                try await self.reset(projection, on: connection)
            }
        }
    }

    /// Drops the view's rows and moves its positions back to the start, then replays every tenant's log into it with a
    /// pipeline of its own. Running instances keep serving: they skip the tenants the rebuild holds, and take part.
    public func rebuild(_ name: String) async throws {
        guard let projection = consumers.first(where: { $0.name == name }) as? any Projection else {
            throw PipelineError(
                .unknownConsumer,
                "no projection '\(name)': use one of \(consumers.compactMap { ($0 as? any Projection)?.name }.joined(separator: ", "))")
        }
        try await transaction { connection in try await self.reset(projection, on: connection) }
        var only = configuration
        only.pageSize = max(configuration.pageSize, 5000)
        try await TenantPipeline([projection], store: store, configuration: only, statistics: statistics, logger: logger).drain()
    }

    /// Drops every view's rows and moves their positions back; the rounds that follow (`drain`, or `run` of any
    /// instance) replay them.
    public func resetAll() async throws {
        for case let projection as any Projection in consumers {
            try await transaction { connection in try await self.reset(projection, on: connection) }
        }
    }

    /// Removes the view's rows, moves its positions to 0 and records its current version. Its checkpoint rows are
    /// locked first, so rounds in flight finish before the rows go and new rounds skip the tenants until it commits.
    func reset(_ projection: any Projection, on connection: PostgresConnection) async throws {
        let name = projection.name
        for try await _ in try await connection.query(
            "SELECT position FROM consumer_checkpoints WHERE consumer = \(name) FOR UPDATE", logger: logger
        ).decode(Int64.self) {}
        try await projection.reset(on: connection)
        try await connection.query(
            """
            UPDATE consumer_checkpoints SET position = 0, failures = 0, failing_position = NULL, retry_at = NULL, last_error = NULL,
                updated_at = now()
            WHERE consumer = \(name)
            """, logger: logger)
        try await connection.query(
            """
            INSERT INTO projection_versions (projection, version, rebuilt_at) VALUES (\(name), \(projection.version), now())
            ON CONFLICT (projection) DO UPDATE SET version = EXCLUDED.version, rebuilt_at = EXCLUDED.rebuilt_at
            """, logger: logger)
        local.withLock { state in state.suspects = state.suspects.filter { $0.key.consumer != name } }
    }

    /// How far each consumer is behind each tenant's log.
    public func lag(tenants: [TenantID]? = nil) async throws -> [ConsumerLag] {
        try await ConsumerLag.of(names, database: store.database, tenants: tenants, logger: logger)
    }

    // MARK: Helpers

    /// A transaction whose errors come out as thrown by `body` (PostgresNIO wraps them in `PostgresTransactionError`).
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await store.database.client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

}

/// What the pipeline has done since the process started, for `/metrics` and `ops/bench`.
public final class PipelineStatistics: Sendable {
    private let rounds = Atomic<Int>(0)
    private let decoded = Atomic<Int>(0)
    private let read = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)
    private let observers = Mutex<[@Sendable (_ took: Duration, _ events: Int, _ failed: Bool) -> Void]>([])

    public init() {}

    /// Calls `observer` after every round with how long it took, how many events it read, and whether it failed
    /// (the service's metrics record them).
    public func observeRounds(_ observer: @escaping @Sendable (_ took: Duration, _ events: Int, _ failed: Bool) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    func recordRound(decoded count: Int, read events: Int, took: Duration = .zero, failed: Bool = false) {
        rounds.add(1, ordering: .relaxed)
        decoded.add(count, ordering: .relaxed)
        read.add(events, ordering: .relaxed)
        for observer in observers.withLock({ $0 }) { observer(took, events, failed) }
    }

    func recordFailure() { failures.add(1, ordering: .relaxed) }

    /// Rounds run (committed, empty or rolled back).
    public var roundCount: Int { rounds.load(ordering: .relaxed) }
    /// Stored events decoded by the rounds (once per event read, plus process managers catching up).
    public var decodeCount: Int { decoded.load(ordering: .relaxed) }
    /// Events read by the rounds' pages.
    public var eventsRead: Int { read.load(ordering: .relaxed) }
    /// Rounds a consumer failed in.
    public var consumerFailures: Int { failures.load(ordering: .relaxed) }
}
