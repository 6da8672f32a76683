import ArgumentParser
import Foundation
import Logging
import MDRDomain
import MDRStore
import NIOCore
import PostgresNIO
import Synchronization

/// `ops/bench append`: signal-sized events through the store API against a raw COPY of the same rows.
struct AppendBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append events through EventStore.append and COPY the same rows into a bare table of the same shape.")

    @Option(name: .customLong("database-url"), help: "An admin URL of the PostgreSQL to use (a fresh database is made).") var url: String
    @Option var events = 200_000
    @Option var tenants = 20
    @Option var writers = 8
    @Option var batch = 100

    struct Row: Sendable {
        var tenant: Int
        var event: EventToAppend
    }

    func run() async throws {
        let metadata = EventMetadata(actor: "token:bench-connector", actorName: "bench connector", role: "connector", commandID: nil, correlationID: nil)
        // Everything a command does before the store is prepared up front: the benchmark measures the store.
        var batches: [[Row]] = []
        var current: [Row] = []
        for n in 0..<events {
            let tenant = (n / batch) % tenants
            let data = signalPayload(tenant: tenant, n: n)
            current.append(Row(tenant: tenant, event: EventToAppend(stream: StreamName(rawValue: "signal:endpoint:\(n)"), type: "SignalIngested", data: data, metadata: metadata)))
            if current.count == batch {
                batches.append(current)
                current = []
            }
        }
        if !current.isEmpty { batches.append(current) }
        let averageBytes = batches.joined().map { $0.event.data.utf8.count }.reduce(0, +) / max(1, events)
        print("events: \(events), payload: \(averageBytes) bytes of JSON on average, tenants: \(tenants), writers: \(writers), batch: \(batch)")

        let all = batches
        try await withFreshDatabase(url) { database, _ in
            let store = EventStore(database: database)
            // Append through the store API: every event its own stream, expected not to exist (as ingest does).
            let next = Shared(0)
            let latencies = Shared<[Double]>([])
            let clock = ContinuousClock()
            let appendTime = try await clock.measure {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<writers {
                        group.addTask {
                            while true {
                                let i = next.withLock { n in defer { n += 1 }; return n }
                                guard i < all.count else { return }
                                let rows = all[i]
                                let tenant = TenantID(rawValue: "tenant-\(rows[0].tenant)")!
                                let expectations = Dictionary(uniqueKeysWithValues: rows.map { ($0.event.stream, ExpectedVersion.noStream) })
                                let start = clock.now
                                _ = try await store.append(tenant: tenant, events: rows.map(\.event), expectations: expectations)
                                let ms = seconds(clock.now - start) * 1000
                                latencies.withLock { $0.append(ms) }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let stored = try await countRows(database, "SELECT count(*) FROM events")
            guard stored == events else { throw ValidationError("expected \(events) stored events, found \(stored)") }
            let p = Percentiles(latencies.withLock { $0 })
            let appendRate = Double(events) / seconds(appendTime)
            print("append: \(events) events in \(fmt(seconds(appendTime), 2)) s; batch latency p50 \(fmt(p.p(0.5), 1)) ms, p99 \(fmt(p.p(0.99), 1)) ms")

            // The plain PostgreSQL limit: COPY the same stored rows into a bare table of the same shape, same parallelism.
            for table in ["bench_copy", "bench_copy_single"] {
                try await database.client.query(
                    PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)"),
                    logger: benchLogger)
            }
            let rows = try await exportRows(database)
            // One COPY stream (what a bulk loader does) and `writers` streams at once (the machine's limit).
            let singleTime = try await copyRows(database, [rows], table: "bench_copy_single")
            let chunkSize = rows.count / writers + 1
            let chunks = stride(from: 0, to: rows.count, by: chunkSize).map { Array(rows[$0..<min($0 + chunkSize, rows.count)]) }
            let copyTime = try await copyRows(database, chunks, table: "bench_copy")
            let copied = try await countRows(database, "SELECT count(*) FROM bench_copy")
            guard copied == events else { throw ValidationError("expected \(events) copied rows, found \(copied)") }
            let copyRate = Double(events) / seconds(copyTime)
            print("raw copy, 1 stream: \(events) rows in \(fmt(seconds(singleTime), 2)) s: \(fmt(Double(events) / seconds(singleTime))) rows/s")
            print("raw copy, \(writers) streams: \(events) rows in \(fmt(seconds(copyTime), 2)) s")
            let intact = try await ChainVerifier(database: database).verify(tenant: TenantID(rawValue: "tenant-0")!)
            print("chain of tenant-0: \(intact)")
            print("append: \(fmt(appendRate)) events/s, raw copy: \(fmt(copyRate)) events/s, ratio: \(fmt(appendRate / copyRate, 2))")
        }
    }

    /// The stored rows in COPY text format, shuffled by tenant as the writers produced them.
    func exportRows(_ database: Database) async throws -> [String] {
        var lines: [String] = []
        lines.reserveCapacity(events)
        let rows = try await database.client.query(
            """
            SELECT tenant_id, position, stream, version, event_id::text, type, schema_version, data::text, metadata::text,
                   recorded_at::text, encode(hash, 'hex') FROM events ORDER BY recorded_at, tenant_id, position
            """, logger: benchLogger)
        for try await (t, p, s, v, id, ty, sv, d, m, at, h) in rows.decode((String, Int64, String, Int64, String, String, Int32, String, String, String, String).self) {
            lines.append([t, String(p), s, String(v), id, ty, String(sv), copyEscape(d), copyEscape(m), at, "\\\\x" + h].joined(separator: "\t") + "\n")
        }
        return lines
    }
}
