import ArgumentParser
import Foundation
import Logging
import MDRDomain
import MDRStore
import PostgresNIO
import Synchronization

/// A value shared between tasks.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mdr-bench", abstract: "Benchmarks of the MDR backend (run through ops/bench).",
        subcommands: [AppendBench.self, HTTPLatencyBench.self, IngestBench.self, ProjectionBench.self, NotifyBench.self, DefenderCommand.self])
}

/// Latency percentiles of a sample, in milliseconds.
struct Percentiles {
    var sorted: [Double]
    init(_ samples: [Double]) { sorted = samples.sorted() }
    func p(_ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)]
    }
}

func fmt(_ x: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", x) }

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

let benchLogger: Logger = {
    var l = Logger(label: "mdr.bench")
    l.logLevel = .warning
    return l
}()

/// Creates a fresh database for a run and drops it afterwards.
func withFreshDatabase<T: Sendable>(_ url: String, _ body: @Sendable (Database, DatabaseConfiguration) async throws -> T) async throws -> T {
    var config = try DatabaseConfiguration(url: url)
    let name = "mdr_bench_\(Int(Date().timeIntervalSince1970))"
    let admin = try await PostgresConnection.connect(
        configuration: .init(host: config.host, port: config.port, username: config.username, password: config.password, database: config.database, tls: .disable),
        id: 1, logger: benchLogger)
    try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: benchLogger)
    config.database = name
    config.maximumConnections = 32
    let database = Database(config, logger: benchLogger)
    let result: Result<T, any Error> = await withTaskGroup(of: Void.self) { group in
        group.addTask { await database.run() }
        defer { group.cancelAll() }
        do {
            try await Migrator(database: database).migrate()
            return .success(try await body(database, config))
        } catch {
            return .failure(error)
        }
    }
    try? await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: benchLogger)
    try? await admin.close()
    return try result.get()
}

/// A realistic signal payload of about 650 bytes of JSONB.
func signalPayload(tenant: Int, n: Int) -> String {
    let signal = Signal(
        source: .endpoint, sourceAlertID: "da63\(tenant)\(n)_\(UUID().uuidString.prefix(8))", severity: .high, status: .new,
        title: "Suspicious process injection into a system process observed on the device",
        observedAt: Date(timeIntervalSince1970: 1_795_000_000 + Double(n)),
        entities: SignalEntities(
            devices: [DeviceID(rawValue: "ws-\(String(format: "%04d", n % 500))")!], users: ["user\(n % 300)@tenant\(tenant).example.nl"],
            ips: ["10.\(tenant).\(n % 250).\(n % 200)", "203.0.113.\(n % 250)"],
            fileHashes: ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "da39a3ee5e6b4b0d3255bfef95601890afd80709"]),
        mitreTechniques: ["T1055", "T1055.012", "T1059.001"])
    let event = DomainEvent.signalIngested(SignalIngested(signalID: SignalID(rawValue: UUID()), signal: signal, receivedAt: Date()))
    return String(decoding: EventCodec.encode(event), as: UTF8.self)
}

/// COPYs `chunks` into `table`, one connection per chunk at once, in COPY statements of 5,000 rows.
func copyRows(_ database: Database, _ chunks: [[String]], table: String) async throws -> Duration {
    try await ContinuousClock().measure {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chunk in chunks {
                group.addTask {
                    try await database.client.withConnection { connection in
                        for part in stride(from: 0, to: chunk.count, by: 5000) {
                            try await connection.copyFrom(table: table, logger: benchLogger) { writer in
                                var buffer = ByteBuffer()
                                for line in chunk[part..<min(part + 5000, chunk.count)] {
                                    buffer.writeString(line)
                                    if buffer.readableBytes > 1 << 20 {
                                        try await writer.write(buffer)
                                        buffer.clear()
                                    }
                                }
                                if buffer.readableBytes > 0 { try await writer.write(buffer) }
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

func countRows(_ database: Database, _ sql: String) async throws -> Int {
    for try await n in try await database.client.query(PostgresQuery(unsafeSQL: sql), logger: benchLogger).decode(Int64.self) {
        return Int(n)
    }
    return 0
}

func copyEscape(_ s: String) -> String {
    s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t").replacingOccurrences(of: "\n", with: "\\n")
}
