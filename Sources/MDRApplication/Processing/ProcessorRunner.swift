import Foundation
import Logging
import MDRDomain
import MDRStore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Runs a `TenantLogProcessor` for every tenant whose head is beyond the processor's checkpoint. Work is claimed
/// per tenant with `FOR UPDATE SKIP LOCKED` on the checkpoint row, so several instances cooperate without a
/// coordinator. The processor's state is cached per tenant and caught up from the log before each round.
public final class ProcessorRunner<P: TenantLogProcessor>: Service, Sendable {
    let processor: P
    let store: EventStore
    let pollInterval: Duration
    let pageSize: Int
    let concurrency: Int
    let logger: Logger

    private struct Cached: Sendable {
        var position: Int64
        var state: P.State
    }
    private let cache = Mutex<[TenantID: Cached]>([:])

    /// - Parameter concurrency: tenants processed at once in a round (each in its own transaction, on its own
    ///   connection): one tenant's commit does not wait for another's.
    public init(
        _ processor: P, store: EventStore, pollInterval: Duration = .seconds(1), pageSize: Int = 1000, concurrency: Int = 4, logger: Logger
    ) {
        self.processor = processor
        self.store = store
        self.pollInterval = pollInterval
        self.pageSize = pageSize
        self.concurrency = max(1, concurrency)
        var logger = logger
        logger[metadataKey: "processor"] = "\(processor.name)"
        self.logger = logger
    }

    public func run() async throws {
        await store.signal.repeatRounds(pollInterval: pollInterval, logger: logger, what: "processor") { try await self.runOnce() }
    }

    /// One round over the tenants with work; returns the number of events reacted to or skipped past.
    @discardableResult
    public func runOnce() async throws -> Int {
        let tenants = try await tenantsWithWork()
        guard concurrency > 1, tenants.count > 1 else {
            var done = 0
            for tenant in tenants { done += try await process(tenant) }
            return done
        }
        return try await withThrowingTaskGroup(of: Int.self) { group in
            var pending = tenants[...]
            var done = 0
            for _ in 0..<min(concurrency, pending.count) {
                let tenant = pending.removeFirst()
                group.addTask { try await self.process(tenant) }
            }
            while let moved = try await group.next() {
                done += moved
                if let tenant = pending.popFirst() { group.addTask { try await self.process(tenant) } }
            }
            return done
        }
    }

    /// Runs rounds until no tenant has work left (tests, `mdr` one-shot tools).
    public func drain() async throws {
        while try await runOnce() > 0 {}
    }

    func tenantsWithWork() async throws -> [TenantID] {
        try await store.tenantsAhead(ofProcessor: processor.name)
    }

    /// Processes one page of one tenant's log in one transaction; returns how far the checkpoint moved (0 when
    /// another instance holds the tenant).
    func process(_ tenant: TenantID) async throws -> Int {
        let name = processor.name
        let cached = cache.withLock { $0[tenant] } ?? Cached(position: 0, state: processor.initialState)
        let outcome: (moved: Int, cache: Cached, appended: Int64?, wrote: Bool)? = try await store.database.client.withTransaction(logger: logger) {
            connection in
            try await connection.query(
                "INSERT INTO processor_checkpoints (tenant_id, processor) VALUES (\(tenant.rawValue), \(name)) ON CONFLICT DO NOTHING",
                logger: self.logger)
            var checkpoint: Int64? = nil
            for try await position in try await connection.query(
                """
                SELECT position FROM processor_checkpoints WHERE tenant_id = \(tenant.rawValue) AND processor = \(name)
                FOR UPDATE SKIP LOCKED
                """, logger: self.logger
            ).decode(Int64.self) {
                checkpoint = position
            }
            guard let checkpoint else { return nil }
            var head: Int64 = 0
            for try await position in try await connection.query(
                "SELECT last_position FROM tenant_heads WHERE tenant_id = \(tenant.rawValue)", logger: self.logger
            ).decode(Int64.self) {
                head = position
            }

            // The state is a fold of the log in position order in which the processor's own reactions count at the
            // position of their cause, not where they landed: a reaction commits after events that arrived meanwhile,
            // and those must still be decided on a state that includes it. Reactions to events up to the checkpoint
            // are therefore derived again (not appended), and the processor's own events are skipped when read.
            var folded = cached.position <= checkpoint ? cached : Cached(position: 0, state: self.processor.initialState)
            var reactions: [P.Reaction] = []
            var from = folded.position
            while from < head {
                let page = try await self.store.readLog(
                    tenant: tenant, after: from, limit: self.pageSize, types: self.processor.eventTypes, on: connection)
                let pageEnd = page.count < self.pageSize ? head : page.last!.position
                for event in page where event.position <= pageEnd && event.metadata.actor != self.processor.actor.id {
                    let reaction = try self.processor.step(&folded.state, event)
                    if event.position > checkpoint { reactions += reaction }
                }
                folded.position = pageEnd
                from = pageEnd
                if reactions.count >= self.pageSize { break }
            }
            let reachedCheckpoint = max(checkpoint, folded.position)
            var appended: Int64? = nil
            if !reactions.isEmpty {
                appended = try await self.processor.commit(reactions, tenant: tenant, store: self.store, on: connection)
            }
            try await connection.query(
                """
                UPDATE processor_checkpoints SET position = \(reachedCheckpoint), updated_at = now()
                WHERE tenant_id = \(tenant.rawValue) AND processor = \(name)
                """, logger: self.logger)
            return (Int(reachedCheckpoint - checkpoint), folded, appended, !reactions.isEmpty)
        }
        guard let outcome else { return 0 }
        // Only a committed round moves the cache.
        cache.withLock { $0[tenant] = outcome.cache }
        if let last = outcome.appended { store.signal.appended(tenant: tenant, position: last) }
        if outcome.wrote { processor.didCommit(tenant: tenant) }
        return outcome.moved
    }
}
