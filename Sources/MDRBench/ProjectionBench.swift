import ArgumentParser
import Foundation
import Logging
import MDRDomain
import MDRProjections
import MDRStore
import PostgresNIO

/// `ops/bench projections`: rebuild every view from a large log, against a plain sequential read of the same events
/// in the same run; then the live lag of the views while events are appended at a steady rate.
struct ProjectionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "Rebuild all views from a large log vs a plain SELECT of the events table; live projection lag under load.")

    @Option(name: .customLong("database-url"), help: "An admin URL of the PostgreSQL to use (a fresh database is made).") var url: String
    @Option var events = 1_000_000
    @Option var tenants = 50
    @Option(help: "(projection, tenant) pages the runner applies at once, in the rebuild and live.") var concurrency = 4
    @Option(name: .customLong("live-rate"), help: "Events per second appended while the live lag is measured.") var liveRate = 5000
    @Option(name: .customLong("live-seconds")) var liveSeconds = 20

    static let metadata = EventMetadata(actor: "token:bench", actorName: "bench", role: "soc", commandID: nil, correlationID: nil)

    /// A block of 100 events of one tenant as the service writes them: an incident opened from a signal, 89 more
    /// signals of which 9 join it, its confirmation, and an isolation request for its device.
    static func block(tenant: Int, block: Int) -> [EventToAppend] {
        var out: [EventToAppend] = []
        let incident = IncidentID(rawValue: UUID())
        let device = DeviceID(rawValue: "ws-\(String(format: "%04d", block % 500))")!
        let at = Date(timeIntervalSince1970: 1_795_000_000 + Double(block))
        func signal(_ i: Int) -> (SignalID, EventToAppend) {
            let id = SignalID(rawValue: UUID())
            let s = Signal(
                source: i % 7 == 0 ? .firewall : .endpoint, sourceAlertID: "b\(block)-\(i)", severity: i % 5 == 0 ? .high : .medium,
                title: "Suspicious process injection into a system process observed on the device", observedAt: at,
                entities: SignalEntities(
                    devices: [i < 10 ? device : DeviceID(rawValue: "ws-\(String(format: "%04d", (block * 89 + i) % 500))")!],
                    users: ["user\((block + i) % 300)@tenant\(tenant).example.nl"], ips: ["10.\(tenant).\(i).\(block % 200)"], fileHashes: []),
                mitreTechniques: ["T1055"])
            return (id, EventToAppend(.signalIngested(SignalIngested(signalID: id, signal: s, receivedAt: at)), metadata: metadata))
        }
        let (first, firstEvent) = signal(0)
        out.append(firstEvent)
        out.append(
            EventToAppend(
                .incidentOpened(
                    IncidentOpened(
                        incidentID: incident, signalID: first, severity: .medium, openedAt: at, priority: .p3, source: .endpoint, observedAt: at,
                        entities: SignalEntities(devices: [device], users: [], ips: [], fileHashes: []))), metadata: metadata))
        for i in 1..<90 {
            let (id, event) = signal(i)
            out.append(event)
            if i < 10 {
                out.append(
                    EventToAppend(
                        .signalAttached(
                            SignalAttached(
                                incidentID: incident, signalID: id, severity: .medium, source: .endpoint, observedAt: at,
                                entities: SignalEntities(devices: [device], users: [], ips: [], fileHashes: []))), metadata: metadata))
            }
        }
        let when = Timestamp.format(at)
        out.append(
            EventToAppend(
                stream: .incident(incident), type: IncidentConfirmed.eventType,
                data: #"{"confirmedAt":"\#(when)","confirmedBy":"token:bench","incidentID":"\#(incident)","priority":"P2","summary":"bench"}"#,
                metadata: metadata))
        return out
    }

    func run() async throws {
        let blocks = max(1, events / 100)
        print("log: \(blocks * 100) events over \(tenants) tenants (signals, incidents opened and joined, confirmations)")
        try await withFreshDatabase(url) { database, _ in
            let store = EventStore(database: database)
            let next = Shared(0)
            let loaded = try await ContinuousClock().measure {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            while true {
                                let n = next.withLock { n in defer { n += 1 }; return n }
                                guard n < blocks else { return }
                                let tenant = n % tenants
                                _ = try await store.append(tenant: TenantID(rawValue: "tenant-\(tenant)")!, events: Self.block(tenant: tenant, block: n / tenants))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let total = try await countRows(database, "SELECT count(*) FROM events")
            print("loaded \(total) events in \(fmt(seconds(loaded), 1)) s")

            // The plain read: every event, tenant by tenant in position order, decoded into rows as the store does.
            let plain = try await ContinuousClock().measure {
                var read = 0
                for tenant in 0..<tenants {
                    var after: Int64 = 0
                    while true {
                        let page = try await store.readLog(tenant: TenantID(rawValue: "tenant-\(tenant)")!, after: after, limit: 2000)
                        read += page.count
                        guard let last = page.last else { break }
                        after = last.position
                    }
                }
                precondition(read == total)
            }
            let plainRate = Double(total) / seconds(plain)
            print("plain read: \(fmt(plainRate)) events/s (\(fmt(seconds(plain), 1)) s)")

            // Rebuild every view: reset them all, then drain the runner.
            let runner = TenantPipeline(
                ReadModels.standard(), store: store, configuration: .init(pageSize: 5000, concurrency: concurrency), logger: benchLogger)
            let rebuild = try await ContinuousClock().measure {
                try await runner.resetAll()
                try await runner.drain()
            }
            let rebuildRate = Double(total) / seconds(rebuild)
            print("rebuild of \(runner.consumers.count) views: \(fmt(seconds(rebuild), 1)) s, \(concurrency) pages at once")

            // Live: a runner as `mdr serve` runs it, while events are appended at `liveRate`; the lag is sampled.
            let lags = Shared<[Double]>([])
            let live = TenantPipeline(ReadModels.standard(), store: store, configuration: .init(concurrency: concurrency), logger: benchLogger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await live.run() }
                group.addTask {
                    let clock = ContinuousClock()
                    let start = clock.now
                    var n = blocks
                    // One block of 100 events every 100/liveRate seconds, spread over the tenants.
                    let interval = Duration.seconds(100.0 / Double(liveRate))
                    var due = start
                    while clock.now < start + .seconds(liveSeconds) {
                        let tenant = n % tenants
                        let result = try await store.append(tenant: TenantID(rawValue: "tenant-\(tenant)")!, events: Self.block(tenant: tenant, block: n / tenants))
                        if case .appended(let r) = result { store.signal.appended(tenant: TenantID(rawValue: "tenant-\(tenant)")!, position: r.lastPosition) }
                        n += 1
                        due = due + interval
                        try await clock.sleep(until: due)
                    }
                }
                group.addTask {
                    let clock = ContinuousClock()
                    let end = clock.now + .seconds(liveSeconds)
                    while clock.now < end {
                        try await clock.sleep(for: .milliseconds(50))
                        let worst = try await live.lag().map(\.secondsBehind).max() ?? 0
                        lags.withLock { $0.append(worst * 1000) }
                    }
                }
                try await group.next()
                try await group.next()
                group.cancelAll()
            }
            let p = Percentiles(lags.withLock { $0 })
            print("live lag at \(liveRate) events/s: p50 \(fmt(p.p(0.5))) ms, p99 \(fmt(p.p(0.99))) ms over \(p.sorted.count) samples")
            print(
                "rebuild: \(fmt(rebuildRate)) events/s, plain read: \(fmt(plainRate)) events/s, ratio: \(fmt(rebuildRate / plainRate, 2)), live lag p99: \(fmt(p.p(0.99))) ms"
            )
        }
    }
}
