import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
@testable import MDRStore
import MDRTestSupport
import PostgresNIO
import Synchronization
import Testing

/// The pipeline itself: one read and one decode per event whatever the number of consumers, reactions handed on in the
/// same round, a failing consumer parked while the others go on, and nothing half-done after a round dies.
@Suite("Pipeline: one reader, many consumers")
struct PipelineTests {
    /// Every consumer `mdr serve` runs that does not need a receiver or an EDR: the correlator first, then the views.
    static func everything() -> [any LogConsumer] {
        [ProcessManager(CorrelationProcessor())] + ReadModels.standard()
    }

    @Test func eachEventIsDecodedOnceWhateverTheNumberOfConsumers() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            try await h.onboard(acme)
            for batch in 0..<4 {
                try await h.ingest((0..<25).map { i in signal("d\(batch)-\(i)", device: "ws-\(i % 7)") })
            }
            let head = try await h.store.head(tenant: acme)

            // One consumer, then the correlator and four views, then the same plus two more that read every event: the
            // log is decoded once per event each time (the reactions reach the views without being decoded at all).
            let single = TenantPipeline([SignalStatisticsProjection()], store: h.store, configuration: .init(pageSize: 30), logger: TestDatabase.logger)
            // It reads the signals only (its types): 100 events, each decoded once.
            #expect(try await decodes { try await single.drain() } == 100)

            let many = TenantPipeline(Self.everything(), store: h.store, configuration: .init(pageSize: 30), logger: TestDatabase.logger)
            let manyDecodes = try await decodes { try await many.drain() }
            // The correlator's reactions are in the log now, and in the views. Catching up page by page, they land after
            // the head, so they are read back with the rest: still once.
            let after = try await h.store.head(tenant: acme)
            #expect(after > head)
            #expect(manyDecodes == Int(after), "\(Self.everything().count) consumers, \(after) events")
            #expect(many.statistics.eventsRead == Int(after))
            #expect(try await many.lag().allSatisfy { $0.checkpoint == after })

            let more = TenantPipeline(
                Self.everything() + [Recorder(name: "recorder-1"), Recorder(name: "recorder-2")], store: h.store,
                configuration: .init(pageSize: 30), logger: TestDatabase.logger)
            let moreDecodes = try await decodes { try await more.drain() }
            // The two new consumers start at 0 and read the whole log together, once.
            #expect(moreDecodes == Int(after))
        }
    }

    @Test func anIncidentIsInTheViewOneRoundAfterItsSignal() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            try await h.onboard(acme)
            let pipeline = TenantPipeline(Self.everything(), store: h.store, logger: TestDatabase.logger)
            try await pipeline.drain()
            try await h.ingest([signal("one", device: "ws-1")])
            let roundsBefore = pipeline.statistics.roundCount
            // The signal is decoded once; the IncidentOpened the correlator decided is handed to the views as it is.
            #expect(try await decodes { try await pipeline.runOnce() } == 1)
            #expect(pipeline.statistics.roundCount == roundsBefore + 1, "one round")
            let incidents = try await h.views.incidents(tenants: [acme]).incidents
            #expect(incidents.map(\.devices) == [[DeviceID(rawValue: "ws-1")!]])
            // The signal, the correlator's IncidentOpened and everything after it: all consumers at the head.
            let head = try await h.store.head(tenant: acme)
            #expect(try await pipeline.lag().allSatisfy { $0.checkpoint == head })
        }
    }

    @Test func reactionsOvertakenByAnotherAppendAreReadInTheNextRoundAndTheViewsEqualARebuild() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            try await h.onboard(acme)
            // A consumer that, when handed the correlator's IncidentOpened in the round that decided it, has another
            // session append a signal first: the reactions' positions are taken, the round undoes what the consumers did
            // with them, appends them after, and the next round reads them.
            let interloper = Interloper(store: EventStore(database: db), commands: h.commands)
            let pipeline = TenantPipeline(Self.everything() + [interloper], store: h.store, logger: TestDatabase.logger)
            try await pipeline.drain()
            try await h.ingest([signal("first", device: "ws-1")])
            try await pipeline.drain()
            #expect(interloper.interruptions == 1)
            let incidents = try await h.views.incidents(tenants: [acme]).incidents
            #expect(incidents.count == 2, "the first signal's and the interloper's")
            let head = try await h.store.head(tenant: acme)
            #expect(try await pipeline.lag().allSatisfy { $0.checkpoint == head })
            let live = try await h.snapshot()
            for name in ReadModels.standard().map(\.name) { try await pipeline.rebuild(name) }
            #expect(try await h.snapshot() == live)
        }
    }

    @Test func aRoundCommitsWithoutWaitingForTheDisk() async throws {
        try await TestDatabase.withDatabase { db, config in
            let h = ProjectionHarness(db)
            try await h.onboard(acme)
            // Durable commits by default for new sessions of this database (the test cluster itself runs without).
            try await db.client.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(config.database) SET synchronous_commit = on"), logger: TestDatabase.logger)
            let fresh = Database(config, logger: TestDatabase.logger)
            try await withThrowingTaskGroup(of: Void.self) { pool in
                pool.addTask { await fresh.run() }
                defer { pool.cancelAll() }
                let probe = SettingProbe()
                try await TenantPipeline([probe], store: EventStore(database: fresh), logger: TestDatabase.logger).drain()
                // Derived work, redone after a crash that loses it: its commit does not hold the tenant's head for a flush.
                #expect(probe.seen == ["off"])
                // Only inside the round: the connection goes back to the pool with the database's setting.
                for try await value in try await fresh.client.query("SELECT current_setting('synchronous_commit')", logger: TestDatabase.logger)
                    .decode(String.self)
                {
                    #expect(value == "on")
                }
            }
        }
    }

    @Test func aPoisonEventParksOneConsumerWhileTheOthersGoOn() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            try await h.onboard(acme)
            let poisoned = PoisonedStatistics()
            let pipeline = TenantPipeline(
                [ProcessManager(CorrelationProcessor()), IncidentsProjection(), poisoned], store: h.store,
                configuration: .init(retryDelay: .zero), logger: TestDatabase.logger)
            try await h.ingest([signal("s1", device: "ws-1"), signal("s2", device: "ws-2")])
            try await h.ingest([signal("poison", device: "ws-3")])
            try await h.ingest([signal("s4", device: "ws-4"), signal("s5", device: "ws-5")])
            try await pipeline.drain()

            // The others are at the head: five incidents in the view.
            let head = try await h.store.head(tenant: acme)
            let lags = Dictionary(uniqueKeysWithValues: try await pipeline.lag().map { ($0.consumer, $0) })
            #expect(lags["correlator"]?.checkpoint == head)
            #expect(lags["incidents"]?.checkpoint == head)
            #expect(try await h.views.incidents(tenants: [acme]).incidents.count == 5)
            // The poisoned one is parked right before the poison event, which it names, with the error.
            let poison = try #require(try await h.store.readLog(tenant: acme, after: 0, limit: 100).first { $0.data.contains("\"poison\"") })
            let parked = try #require(lags[poisoned.name])
            #expect(parked.isParked && parked.failures >= 1)
            #expect(parked.failingPosition == poison.position)
            #expect(parked.checkpoint == poison.position - 1)
            #expect(parked.lastError?.contains("poisoned") == true)
            #expect(try await statistics(h) == 2, "the two signals before the poison are counted")

            // New events still reach the others.
            try await h.ingest([signal("s6", device: "ws-6")])
            try await pipeline.drain()
            #expect(try await h.views.incidents(tenants: [acme]).incidents.count == 6)
            #expect(try await pipeline.lag().first { $0.consumer == poisoned.name }?.checkpoint == poison.position - 1)

            // Healed (a fixed build), it is retried, catches up, and is no longer parked.
            poisoned.heal()
            try await pipeline.drain()
            let healed = try #require(try await pipeline.lag().first { $0.consumer == poisoned.name })
            let headNow = try await h.store.head(tenant: acme)
            #expect(!healed.isParked && healed.checkpoint == headNow)
            #expect(try await statistics(h) == 6)
        }
    }

    @Test func aRoundThatDiesLeavesNoConsumerAheadOfAnother() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            try await h.onboard(acme)
            try await h.ingest((0..<10).map { i in signal("k\(i)", device: "ws-\(i)") })
            // The last consumer's connection is killed mid-round, after the correlator decided and the views wrote.
            let killer = ConnectionKiller()
            // The query after the server closed the connection may never be answered (ClosedConnectionTests): the round's
            // deadline ends it.
            let dying = TenantPipeline(
                Self.everything() + [killer], store: h.store, configuration: .init(roundTimeout: .seconds(10)), logger: TestDatabase.logger)
            await #expect(throws: (any Error).self) { try await dying.runOnce() }
            #expect(killer.calls == 1)
            // Nothing of the round is left: every position where it was, no incident, no view row, no reaction.
            #expect(try await dying.lag().allSatisfy { $0.checkpoint == 0 })
            #expect(try await h.views.incidents(tenants: [acme]).incidents.isEmpty)
            #expect(try await h.snapshot().values.allSatisfy(\.isEmpty))
            #expect(try await h.store.readLog(tenant: acme, after: 0, limit: 100, types: [IncidentOpened.eventType]).isEmpty)

            // The same round without the killer does it all, once.
            try await TenantPipeline(Self.everything(), store: h.store, logger: TestDatabase.logger).drain()
            #expect(try await h.views.incidents(tenants: [acme]).incidents.count == 10)
            #expect(try await h.store.readLog(tenant: acme, after: 0, limit: 100, types: [IncidentOpened.eventType]).count == 10)
        }
    }

    @Test func aViewBeingRebuiltCatchesUpAloneWhileTheOthersFollowTheHead() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            let outcome = try await mixedWorkload(h) {}
            _ = outcome
            let pipeline = TenantPipeline(Self.everything(), store: h.store, configuration: .init(pageSize: 5), logger: TestDatabase.logger)
            try await pipeline.drain()
            let live = try await h.snapshot()
            // The incidents view is reset; the others are at the head.
            try await pipeline.transaction { connection in try await pipeline.reset(IncidentsProjection(), on: connection) }
            try await h.ingest([signal("late-2", device: "ws-7")])
            try await pipeline.drain()
            #expect(try await pipeline.lag().allSatisfy { $0.eventsBehind == 0 })
            let after = try await h.snapshot()
            #expect(after["incident_view"]!.count == live["incident_view"]!.count + 1)
        }
    }

    func decodes(_ body: () async throws -> Void) async throws -> Int {
        let counter = EventDecodeCounter()
        try await counter.count { try await body() }
        return counter.count
    }

    func statistics(_ h: ProjectionHarness) async throws -> Int {
        Int(
            try await h.views.signalStatistics(tenant: acme, from: CalendarDate("2026-11-29")!, to: CalendarDate("2026-11-29")!).reduce(0) {
                $0 + $1.signals
            })
    }
}

/// A consumer that reads every event and does nothing with it.
struct Recorder: LogConsumer {
    let name: String
    var eventTypes: Set<String>? { nil }
    func consume(_ events: [PipelineEvent], in round: PipelineRound) async throws {
        for event in events { _ = try event.event() }
    }
}

/// The statistics view, with a bug: it cannot handle the signal `poison` until healed.
final class PoisonedStatistics: Projection {
    struct Poisoned: Error, CustomStringConvertible {
        var description: String { "poisoned: this build cannot count signal 'poison'" }
    }

    let base = SignalStatisticsProjection()
    private let healed = Atomic<Bool>(false)
    var name: String { "poisoned-statistics" }
    var version: Int { base.version }
    var eventTypes: Set<String>? { base.eventTypes }

    func heal() { healed.store(true, ordering: .relaxed) }

    func apply(_ events: [PipelineEvent], tenant: TenantID, on connection: PostgresConnection) async throws {
        if !healed.load(ordering: .relaxed),
            events.contains(where: { if case .signalIngested(let e) = try? $0.event() { e.signal.sourceAlertID == "poison" } else { false } })
        {
            throw Poisoned()
        }
        try await base.apply(events, tenant: tenant, on: connection)
    }

    func reset(on connection: PostgresConnection) async throws { try await base.reset(on: connection) }
}

/// A consumer whose round loses its connection: the server ends the backend while the round's transaction is open.
final class ConnectionKiller: LogConsumer {
    private let count = Atomic<Int>(0)
    var name: String { "connection-killer" }
    var eventTypes: Set<String>? { nil }
    var calls: Int { count.load(ordering: .relaxed) }

    func consume(_ events: [PipelineEvent], in round: PipelineRound) async throws {
        count.add(1, ordering: .relaxed)
        try await round.connection.query("SELECT pg_terminate_backend(pg_backend_pid())", logger: round.logger)
    }
}

/// Appends a signal through the command service the first time it is handed an `IncidentOpened` (in the round that
/// decided it, before that round's append): another writer getting in between.
final class Interloper: LogConsumer {
    let store: EventStore
    let commands: CommandService
    private let count = Atomic<Int>(0)
    init(store: EventStore, commands: CommandService) {
        self.store = store
        self.commands = commands
    }
    var name: String { "interloper" }
    var eventTypes: Set<String>? { [IncidentOpened.eventType] }
    var interruptions: Int { count.load(ordering: .relaxed) }

    func consume(_ events: [PipelineEvent], in round: PipelineRound) async throws {
        // Only in the round that decided the incident (the event has no hash yet: it is not stored), and only once.
        guard events.contains(where: { $0.record.hash.isEmpty }), count.compareExchange(expected: 0, desired: 1, ordering: .relaxed).exchanged
        else { return }
        _ = try await commands.ingestNativeSignals(
            tenant: round.tenant, body: Fixtures.signalBatch([signal("interloper", device: "ws-2")]),
            context: CommandContext(principal: Fixtures.soc))
    }
}

/// Records the `synchronous_commit` setting of the rounds it takes part in.
final class SettingProbe: LogConsumer {
    private let values = Mutex<[String]>([])
    var name: String { "setting-probe" }
    var eventTypes: Set<String>? { nil }
    var seen: [String] { values.withLock { $0 } }

    func consume(_ events: [PipelineEvent], in round: PipelineRound) async throws {
        for try await value in try await round.connection.query("SELECT current_setting('synchronous_commit')", logger: round.logger).decode(String.self) {
            values.withLock { $0.append(value) }
        }
    }
}
