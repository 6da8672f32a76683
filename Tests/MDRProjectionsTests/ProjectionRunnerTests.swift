import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

@testable import MDRProjections
@testable import MDRStore

@Suite("Pipeline: views")
struct ProjectionRunnerTests {
    @Test func rebuiltRowsEqualTheLiveOnesAfterAMixedWorkload() async throws {
        try await TestDatabase.withDatabase { db, _ in
            // Live: small pages, rounds between the workload's steps, so rows are written across many transactions.
            let h = ProjectionHarness(db, pageSize: 5)
            let outcome = try await mixedWorkload(h) { try await h.runner.runOnce() }
            try await h.runner.drain()
            let live = try await h.snapshot()
            #expect(live.values.allSatisfy { !$0.isEmpty })

            let devices = try await h.views.devices(tenant: acme)
            #expect(devices.first { $0.deviceID == outcome.released }?.state == .released)
            #expect(devices.first { $0.deviceID == outcome.released }?.incidentID == outcome.isolationIncident)
            #expect(devices.first { $0.deviceID == outcome.pendingAgain }?.state == .pending)
            #expect(devices.first { $0.deviceID == outcome.releasePending }?.state == .releasePending)
            #expect(devices.first { $0.deviceID.rawValue == "ws-9" }?.state == IsolationState.none)

            // Rebuild every projection with one page per tenant: the same rows.
            let rebuilder = TenantPipeline(ReadModels.standard(), store: h.store, logger: TestDatabase.logger)
            for projection in rebuilder.consumers { try await rebuilder.rebuild(projection.name) }
            #expect(try await h.snapshot() == live)
        }
    }

    @Test func twoRunnersSideBySideWriteTheSameRowsAsOne() async throws {
        try await TestDatabase.withDatabase { db, config in
            let h = ProjectionHarness(db, pageSize: 7)
            let second = Database(config, logger: TestDatabase.logger)
            let concurrent = try await withThrowingTaskGroup(of: Void.self) { pools in
                // The second instance's pool runs until its runner has stopped (a query on a stopped pool waits forever).
                pools.addTask { await second.run() }
                defer { pools.cancelAll() }
                let other = TenantPipeline(ReadModels.standard(), store: EventStore(database: second), configuration: .init(pageSize: 7), logger: TestDatabase.logger)
                try await withThrowingTaskGroup(of: Void.self) { runners in
                    runners.addTask { while !Task.isCancelled { _ = try? await other.runOnce(); try? await Task.sleep(for: .milliseconds(1)) } }
                    runners.addTask { while !Task.isCancelled { _ = try? await h.runner.runOnce(); try? await Task.sleep(for: .milliseconds(1)) } }
                    _ = try await mixedWorkload(h) { try await Task.sleep(for: .milliseconds(2)) }
                    runners.cancelAll()
                    try await runners.waitForAll()
                }
                try await other.drain()
                try await h.runner.drain()
                return try await h.snapshot()
            }
            #expect(concurrent.values.allSatisfy { !$0.isEmpty })
            let one = TenantPipeline(ReadModels.standard(), store: h.store, logger: TestDatabase.logger)
            for projection in one.consumers { try await one.rebuild(projection.name) }
            #expect(try await h.snapshot() == concurrent)
        }
    }

    @Test func compareAndSetRefusesAStaleCheckpoint() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            try await h.onboard(acme)
            try await h.ingest([signal("a1", device: "ws-1"), signal("a2", device: "ws-2")])
            try await h.runner.drain()
            let before = try await h.snapshot()
            let statistics = SignalStatisticsProjection()

            // A round that read position 0 before another moved it: its write is refused and rolls back.
            let refusal = await #expect(throws: PipelineError.self) {
                try await h.runner.transaction { connection in
                    try await statistics.apply(
                        try await h.store.readLog(tenant: acme, after: 0, limit: 100, on: connection).map(PipelineEvent.init), tenant: acme,
                        on: connection)
                    try await h.runner.advance(acme, [(statistics.name, 0)], to: 2, on: connection)
                }
            }
            #expect(refusal?.code == .staleCheckpoint)
            #expect(try await h.snapshot() == before)
            let counted = try await h.views.signalStatistics(tenant: acme, from: CalendarDate("2026-11-29")!, to: CalendarDate("2026-11-29")!)
            #expect(counted.map(\.signals) == [2])
        }
    }

    @Test func lagShowsWhatIsNotAppliedYet() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            try await h.onboard(acme)
            try await h.ingest([signal("a1", device: "ws-1")])
            let behind = try await h.runner.lag()
            #expect(behind.count == h.runner.consumers.count)
            #expect(behind.allSatisfy { $0.tenant == acme && $0.eventsBehind == 2 && $0.checkpoint == 0 && $0.secondsBehind >= 0 })
            try await h.runner.drain()
            let caughtUp = try await h.runner.lag(tenants: [acme])
            #expect(caughtUp.allSatisfy { $0.eventsBehind == 0 && $0.secondsBehind == 0 })
            #expect(try await h.runner.lag(tenants: [globex]).isEmpty)
        }
    }

    @Test func aNewSchemaVersionRebuildsTheProjection() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            try await h.onboard(acme)
            try await h.ingest([signal("a1", device: "ws-1")])
            try await h.runner.prepare()
            try await h.runner.drain()
            // The same version again: nothing is reset.
            try await h.runner.prepare()
            #expect(try await h.runner.lag().allSatisfy { $0.eventsBehind == 0 })
            // Another version: its checkpoints go, and the next rounds replay it.
            let changed = TenantPipeline([VersionedStatistics()], store: h.store, logger: TestDatabase.logger)
            try await changed.prepare()
            #expect(try await h.views.signalStatistics(tenant: acme, from: CalendarDate("2026-11-29")!, to: CalendarDate("2026-11-29")!).isEmpty)
            try await changed.drain()
            #expect(
                try await h.views.signalStatistics(tenant: acme, from: CalendarDate("2026-11-29")!, to: CalendarDate("2026-11-29")!).map(\.signals)
                    == [1])
        }
    }

    @Test func rebuildingAnUnknownProjectionIsRefused() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = ProjectionHarness(db)
            let refusal = await #expect(throws: PipelineError.self) { try await h.runner.rebuild("nope") }
            #expect(refusal?.code == .unknownConsumer)
        }
    }
}

/// The statistics projection as if its rows had changed shape.
struct VersionedStatistics: Projection {
    let base = SignalStatisticsProjection()
    var name: String { base.name }
    var version: Int { base.version + 1 }
    var eventTypes: Set<String>? { base.eventTypes }
    func apply(_ events: [PipelineEvent], tenant: TenantID, on connection: PostgresConnection) async throws {
        try await base.apply(events, tenant: tenant, on: connection)
    }
    func reset(on connection: PostgresConnection) async throws { try await base.reset(on: connection) }
}
