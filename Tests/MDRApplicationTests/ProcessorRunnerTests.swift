import Foundation
import MDRApplication
import MDRDomain
import MDRStore
import MDRTestSupport
import Testing

@Suite("Process manager runner")
struct ProcessorRunnerTests {
    /// 300 signals over 30 devices in 30 batches.
    func workload(_ h: Harness) async throws {
        for batch in 0..<30 {
            _ = try await h.ingest((0..<10).map { i in Fixtures.signal(alert: "b\(batch)-\(i)", device: "ws-\((batch * 7 + i) % 30)") })
        }
    }

    func summary(_ incidents: [Incident]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: incidents.map { ($0.devices.map(\.rawValue).joined(separator: ","), $0.signals.count) })
    }

    @Test func twoInstancesSideBySideProduceTheSameIncidentsAsOne() async throws {
        // The reference: one runner after the whole workload.
        let reference = try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            try await h.onboard()
            try await workload(h)
            try await h.processor.drain()
            return summary(try await h.incidents())
        }
        #expect(reference.count == 30)
        #expect(reference.values.reduce(0, +) == 300)

        // Two runners with pools and caches of their own, running while signals arrive.
        let concurrent = try await TestDatabase.withDatabase { db, config in
            let h = Harness(db)
            try await h.onboard()
            let second = Database(config, logger: TestDatabase.logger)
            return try await withThrowingTaskGroup(of: Void.self) { pools in
                // The second instance's pool runs until its runner has stopped (a query on a stopped pool waits forever).
                pools.addTask { await second.run() }
                defer { pools.cancelAll() }
                let other = TenantPipeline([ProcessManager(CorrelationProcessor())], store: EventStore(database: second), configuration: .init(pollInterval: .milliseconds(10)), logger: TestDatabase.logger)
                let mine = TenantPipeline([ProcessManager(CorrelationProcessor())], store: h.store, configuration: .init(pollInterval: .milliseconds(10)), logger: TestDatabase.logger)
                try await withThrowingTaskGroup(of: Void.self) { runners in
                    runners.addTask { while !Task.isCancelled { _ = try? await other.runOnce(); try? await Task.sleep(for: .milliseconds(2)) } }
                    runners.addTask { while !Task.isCancelled { _ = try? await mine.runOnce(); try? await Task.sleep(for: .milliseconds(3)) } }
                    try await workload(h)
                    runners.cancelAll()
                    try await runners.waitForAll()
                }
                try await other.drain()
                try await mine.drain()
                let incidents = try await h.incidents()
                let opened = try await h.store.readLog(tenant: acme, after: 0, limit: 100_000).filter { $0.type == IncidentOpened.eventType }
                #expect(opened.count == 30)
                return summary(incidents)
            }
        }
        #expect(concurrent == reference)
    }

    @Test func aReplayGivesTheSameIncidentIDs() async throws {
        let ids: [[IncidentID]] = try await [1, 2].asyncMap { _ in
            try await TestDatabase.withDatabase { db, _ in
                let h = Harness(db)
                try await h.onboard()
                // Same signals, same ids: make the signal ids deterministic by replaying the stored log.
                _ = try await h.ingest([Fixtures.signal(alert: "a1"), Fixtures.signal(alert: "b1", device: "ws-1")])
                try await h.processor.drain()
                // A fresh runner (empty cache) over the same log reacts to nothing new and appends nothing.
                let before = try await h.store.head(tenant: acme)
                let fresh = TenantPipeline([ProcessManager(CorrelationProcessor())], store: h.store, logger: TestDatabase.logger)
                try await fresh.drain()
                #expect(try await h.store.head(tenant: acme) == before)
                return try await h.incidents().map(\.id)
            }
        }
        #expect(ids[0].count == 2)
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await transform(e)) }
        return out
    }
}
