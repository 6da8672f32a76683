import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import MDRStore
import NIOCore
import NIOHTTP1
import PostgresNIO

/// `ops/bench ingest`: batches of Graph security alerts posted over HTTP by several clients to a running service with
/// its correlator, against a raw COPY of the stored signal rows into a bare table in the same run.
///
/// Correlation lag: after each batch is answered (committed), the client reads its tenant's head position; a watcher
/// polls the correlator's checkpoints every 5 ms, and the lag of the batch is the time from the answer until the
/// correlator's checkpoint for the tenant has reached that position (all its signals decided and its incidents
/// appended).
struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "POST batches of Graph alerts from several clients and compare with a raw COPY of the stored rows.")

    @Option(help: "The service's base URL.") var url = "http://127.0.0.1:8080"
    @Option(help: "The service's database (to read heads and checkpoints, and for the COPY reference).") var databaseURL: String
    @Option(help: "A bearer token that may ingest into every tenant (role soc).") var token: String
    @Option(help: "Tenants to ingest into, already onboarded: <prefix>-0 … <prefix>-(n-1).") var tenants = 20
    @Option(help: "The tenants' id prefix.") var tenantPrefix = "bench"
    @Option(help: "Concurrent HTTP clients.") var clients = 4
    @Option(help: "Alerts per batch.") var batch = 500
    @Option(help: "Alerts to commit in total.") var total = 200_000

    struct Pending: Sendable {
        var tenant: String
        var position: Int64
        var answeredAt: ContinuousClock.Instant
    }

    func run() async throws {
        let config = try DatabaseConfiguration(url: databaseURL)
        let database = Database(config, logger: benchLogger)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(120))))
        let clock = ContinuousClock()
        let batches = total / batch
        let next = Shared(0)
        let pending = Shared<[Pending]>([])
        let lags = Shared<[Double]>([])
        let failures = Shared(0)
        let backoffs = Shared(0)
        let accepted = Shared(0)
        let runID = String(UUID().uuidString.prefix(8)).lowercased()
        // The bodies are made before the clock starts: the client shares the machine's two cores with the service.
        let bodies = (0..<batches).map { ByteBuffer(string: alerts(run: runID, batch: $0, tenant: $0 % tenants)) }

        let ingestTime: Duration = try await withThrowingTaskGroup(of: Void.self) { pool in
            pool.addTask { await database.run() }
            defer { pool.cancelAll() }
            let watcher = Shared(true)
            let elapsed = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The watcher: resolves batches whose position the correlator's checkpoint has reached.
                    while watcher.withLock({ $0 }) || !pending.withLock({ $0.isEmpty }) {
                        if pending.withLock({ !$0.isEmpty }) {
                            let checkpoints = try await self.checkpoints(database)
                            let now = clock.now
                            let done = pending.withLock { list -> [Double] in
                                var resolved: [Double] = []
                                list.removeAll { p in
                                    guard let at = checkpoints[p.tenant], at >= p.position else { return false }
                                    resolved.append(seconds(now - p.answeredAt) * 1000)
                                    return true
                                }
                                return resolved
                            }
                            lags.withLock { $0 += done }
                        }
                        try await Task.sleep(for: .milliseconds(5))
                    }
                }
                let start = clock.now
                try await withThrowingTaskGroup(of: Void.self) { senders in
                    for _ in 0..<clients {
                        senders.addTask {
                            while true {
                                let n = next.withLock { value -> Int in
                                    defer { value += 1 }
                                    return value
                                }
                                guard n < batches else { return }
                                let tenant = "\(self.tenantPrefix)-\(n % self.tenants)"
                                var request = HTTPClientRequest(url: "\(self.url)/v1/tenants/\(tenant)/signals/graph")
                                request.method = .POST
                                request.headers.add(name: "Authorization", value: "Bearer \(self.token)")
                                request.headers.add(name: "Content-Type", value: "application/json")
                                request.body = .bytes(bodies[n])
                                var response = try await client.execute(request, timeout: .seconds(120))
                                var body = try await response.body.collect(upTo: 16 << 20)
                                // Admission control: wait Retry-After and send the same batch again, as a connector does.
                                while response.status == .serviceUnavailable {
                                    backoffs.withLock { $0 += 1 }
                                    let wait = Int(response.headers.first(name: "Retry-After") ?? "") ?? 1
                                    try await Task.sleep(for: .seconds(max(1, wait)))
                                    response = try await client.execute(request, timeout: .seconds(120))
                                    body = try await response.body.collect(upTo: 16 << 20)
                                }
                                let answeredAt = clock.now
                                guard response.status == .ok,
                                    let report = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                                    let ok = report["accepted"] as? Int
                                else {
                                    failures.withLock { $0 += 1 }
                                    print("batch \(n) failed: \(response.status) \(String(buffer: body).prefix(300))")
                                    continue
                                }
                                accepted.withLock { $0 += ok }
                                let head = try await self.head(database, tenant)
                                pending.withLock { $0.append(Pending(tenant: tenant, position: head, answeredAt: answeredAt)) }
                            }
                        }
                    }
                    try await senders.waitForAll()
                }
                let elapsed = clock.now - start
                watcher.withLock { $0 = false }
                try await group.waitForAll()
                return elapsed
            }
            return elapsed
        }
        try await client.shutdown()

        let signals = accepted.withLock { $0 }
        let ingestRate = Double(signals) / seconds(ingestTime)
        let p = Percentiles(lags.withLock { $0 })
        print(
            "ingest: \(signals) signals in \(batches) batches of \(batch) from \(clients) clients over \(tenants) tenants in \(fmt(seconds(ingestTime), 2)) s; failures: \(failures.withLock { $0 }); 503 ingest_backpressure answered (then sent again): \(backoffs.withLock { $0 })"
        )
        print("correlation lag (answer → correlator checkpoint): p50 \(fmt(p.p(0.5), 1)) ms, p99 \(fmt(p.p(0.99), 1)) ms, max \(fmt(p.p(1.0), 1)) ms")

        let (copyRate, incidents) = try await copyReference(config, clients: clients)
        print("incidents opened by the correlator: \(incidents)")
        print("ingest: \(fmt(ingestRate)) signals/s, raw copy: \(fmt(copyRate)) rows/s, ratio: \(fmt(ingestRate / copyRate, 2)), correlation lag p99: \(fmt(p.p(0.99), 0)) ms")
    }

    /// A batch of realistic Defender for Endpoint / Office 365 / Entra alerts, each with evidence, in the Graph v2 shape.
    func alerts(run: String, batch: Int, tenant: Int) -> String {
        var items: [String] = []
        items.reserveCapacity(self.batch)
        for i in 0..<self.batch {
            let n = batch * self.batch + i
            let device = n % 400
            let user = n % 250
            let minute = (n / 40) % 600
            let at = String(format: "2026-11-29T%02d:%02d:%02d.%03dZ", 8 + minute / 60, minute % 60, n % 60, n % 1000)
            let kind = n % 4
            let service = ["microsoftDefenderForEndpoint", "microsoftDefenderForOffice365", "azureAdIdentityProtection", "microsoftDefenderForEndpoint"][kind]
            let severity = ["medium", "low", "high", "informational"][n % 4 == 3 ? 3 : (n / 4) % 3]
            let technique = ["T1059.001", "T1566.001", "T1078.004", "T1486"][kind]
            items.append(
                """
                {"@odata.type":"#microsoft.graph.security.alert","id":"da\(run)\(batch)_\(i)","providerAlertId":"da\(run)\(batch)_\(i)",\
                "incidentId":"\(n / 7)","status":"new","severity":"\(severity)","classification":null,"determination":null,\
                "serviceSource":"\(service)","detectionSource":"\(service)","productName":"Microsoft Defender XDR",\
                "title":"Suspicious PowerShell command line","description":"A process executed an encoded command on the device",\
                "recommendedActions":"Isolate the device and reset the user's password","category":"Execution",\
                "mitreTechniques":["\(technique)"],"createdDateTime":"\(at)","firstActivityDateTime":"\(at)","lastActivityDateTime":"\(at)",\
                "evidence":[{"@odata.type":"#microsoft.graph.security.deviceEvidence","mdeDeviceId":"\(String(format: "%040x", device + tenant * 100_000))",\
                "deviceDnsName":"ws-\(device).tenant\(tenant).local","osPlatform":"Windows11","ipInterfaces":["10.\(tenant).\(device / 250).\(device % 250)"],"verdict":"suspicious"},\
                {"@odata.type":"#microsoft.graph.security.userEvidence","userAccount":{"accountName":"user\(user)","userPrincipalName":"user\(user)@tenant\(tenant).example.nl","azureAdUserId":"\(UUID().uuidString.lowercased())"}},\
                {"@odata.type":"#microsoft.graph.security.processEvidence","processCommandLine":"powershell.exe -enc SQBFAFgA","imageFile":{"fileName":"powershell.exe",\
                "sha1":"\(String(format: "%040x", n % 977))","sha256":"\(String(format: "%064x", n % 977))"}},\
                {"@odata.type":"#microsoft.graph.security.ipEvidence","ipAddress":"203.0.\(n % 200).\(n % 250)"}]}
                """)
        }
        return "[" + items.joined(separator: ",") + "]"
    }

    func head(_ database: Database, _ tenant: String) async throws -> Int64 {
        for try await p in try await database.client.query("SELECT last_position FROM tenant_heads WHERE tenant_id = \(tenant)", logger: benchLogger)
            .decode(Int64.self)
        {
            return p
        }
        return 0
    }

    func checkpoints(_ database: Database) async throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for try await (t, p) in try await database.client.query(
            "SELECT tenant_id, position FROM consumer_checkpoints WHERE consumer = 'correlator'", logger: benchLogger
        ).decode((String, Int64).self) {
            result[t] = p
        }
        return result
    }

    /// COPYs the stored signal rows into a bare table shaped like `events` (its indexes included), with as many
    /// connections as there were clients: the plain PostgreSQL limit for writing the same rows.
    func copyReference(_ config: DatabaseConfiguration, clients: Int) async throws -> (Double, Int) {
        let database = Database(config, logger: benchLogger)
        return try await withThrowingTaskGroup(of: Void.self) { pool in
            pool.addTask { await database.run() }
            defer { pool.cancelAll() }
            try await database.client.query(
                "CREATE TABLE bench_ingest_copy (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)", logger: benchLogger)
            var lines: [String] = []
            let rows = try await database.client.query(
                """
                SELECT tenant_id, position, stream, version, event_id::text, type, schema_version, data::text, metadata::text,
                       recorded_at::text, encode(hash, 'hex') FROM events WHERE type = 'SignalIngested' ORDER BY recorded_at, tenant_id, position
                """, logger: benchLogger)
            for try await (t, p, s, v, id, ty, sv, d, m, at, h) in rows.decode(
                (String, Int64, String, Int64, String, String, Int32, String, String, String, String).self)
            {
                lines.append(
                    [t, String(p), s, String(v), id, ty, String(sv), copyEscape(d), copyEscape(m), at, "\\\\x" + h].joined(separator: "\t") + "\n")
            }
            let chunkSize = lines.count / clients + 1
            let chunks = stride(from: 0, to: lines.count, by: chunkSize).map { Array(lines[$0..<min($0 + chunkSize, lines.count)]) }
            let time = try await copyRows(database, chunks, table: "bench_ingest_copy")
            let incidents = try await countRows(database, "SELECT count(*) FROM events WHERE type = 'IncidentOpened'")
            print("raw copy: \(lines.count) signal rows with \(clients) connections in \(fmt(seconds(time), 2)) s")
            return (Double(lines.count) / seconds(time), incidents)
        }
    }
}
