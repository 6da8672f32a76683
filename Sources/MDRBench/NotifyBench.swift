import ArgumentParser
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MDRApplication
import MDRDomain
import MDRNotify
import MDRStore
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// `ops/bench notify`: confirm P1 incidents across tenants whose notifications go to two webhook routes each (Dynamic's
/// and the customer's after-hours hook, on loopback receivers), with the notifier and a delivery worker running as in
/// `mdr serve`. Measures deliveries per second and confirm-to-delivered latency; in the same run, the plain PostgreSQL
/// limit for what each delivery costs the database (a single-row transaction per delivery, same concurrency).
struct NotifyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify", abstract: "Notifier throughput and confirm-to-delivered latency over loopback webhooks.")

    @Option(name: .customLong("database-url"), help: "An admin URL of the PostgreSQL to use (a fresh database is made).") var url: String
    @Option var incidents = 2000
    @Option var tenants = 20
    @Option(help: "Confirmations per second (0: as fast as the clients go).") var rate = 500
    @Option(help: "Concurrent confirming clients.") var clients = 8

    /// The receivers' record: when each notification arrived, by incident.
    final class Arrivals: Sendable {
        let times = Shared<[String: [Double]]>([:])
        let count = Shared(0)
        func record(incident: String, at: Double) {
            times.withLock { $0[incident, default: []].append(at) }
            count.withLock { $0 += 1 }
        }
    }

    func run() async throws {
        let arrivals = Arrivals()
        let start = ContinuousClock.now
        let now: @Sendable () -> Double = { seconds(ContinuousClock.now - start) }

        // One loopback receiver for Dynamic and one for the customers; both answer 204 at once.
        let router = Router()
        router.post("hook/:who") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 16)
            let at = now()
            if let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                let data = json["data"] as? [String: Any], let incident = data["incident_id"] as? String
            {
                arrivals.record(incident: incident, at: at)
            }
            return Response(status: .noContent)
        }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let receiver = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            }, logger: benchLogger)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await receiver.runService() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw ValidationError("the receiver did not start") }
            defer { group.cancelAll() }
            try await measure(port: port, arrivals: arrivals, now: now)
        }
    }

    func measure(port: Int, arrivals: Arrivals, now: @escaping @Sendable () -> Double) async throws {
        let dynamicURL = "http://127.0.0.1:\(port)/hook/dynamic", customerURL = "http://127.0.0.1:\(port)/hook/customer"
        let secret = WebhookSecret(bytes: Array(repeating: 7, count: 32))!.encoded
        try await withFreshDatabase(url) { database, _ in
            let store = EventStore(database: database)
            // Sunday morning: outside office hours, so a P1 goes to the customer's after-hours webhook at once.
            let time = SundayClock()
            let commands = CommandService(store: store, time: time)
            let endpoints = WebhookEndpointStore(database: database)
            try await endpoints.set(url: dynamicURL, secrets: [secret])
            try await endpoints.set(url: customerURL, secrets: [secret])

            // Tenants and their open incidents (appended directly: the correlator is not what is measured here).
            var work: [(TenantID, IncidentID)] = []
            for t in 0..<tenants {
                let tenant = TenantID(rawValue: "bench-\(t)")!
                _ = try await commands.onboardTenant(
                    OnboardTenant(
                        tenantID: tenant, name: "Bench \(t)", package: .compliant, contractStart: CalendarDate("2026-01-01")!,
                        primaryContact: Contact(name: "Anna", email: "anna@bench\(t).example"),
                        afterHoursRoute: ContactRoute(channel: .webhook, address: customerURL),
                        consent: InterventionConsent(grantedBy: "Anna", grantedOn: CalendarDate("2026-01-01")!), at: time.now()),
                    context: CommandContext(principal: .system("bench")))
                var opened: [EventToAppend] = []
                for i in 0..<(incidents / tenants) {
                    let incident = IncidentID(rawValue: UUID())
                    work.append((tenant, incident))
                    opened.append(
                        EventToAppend(
                            .incidentOpened(
                                IncidentOpened(
                                    incidentID: incident, signalID: SignalID(rawValue: UUID()), severity: .high, openedAt: time.now(), priority: .p2,
                                    source: .endpoint, observedAt: time.now(),
                                    entities: SignalEntities(devices: [DeviceID(rawValue: "ws-\(i)")!], users: [], ips: [], fileHashes: []))),
                            metadata: EventMetadata(principal: .system("bench"))))
                }
                _ = try await store.append(tenant: tenant, events: opened)
            }
            work.shuffle()
            let jobs = work

            let settings = NotificationSettings(
                dynamicRoutes: [ContactRoute(channel: .webhook, address: dynamicURL)], dynamicWebhookSecrets: [secret],
                linkBase: "https://mdr.example")
            let (consumer, delivery) = NotificationDeliveryService.make(settings: settings, store: store, time: time, logger: benchLogger)
            let notifier = TenantPipeline([consumer], store: store, logger: benchLogger)
            // The notifier must have caught up with the onboarding before the clock starts.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await notifier.run() }
                group.addTask { try await delivery.run() }
                defer { group.cancelAll() }
                try await Task.sleep(for: .seconds(2))

                let confirmedAt = Shared<[String: Double]>([:])
                let next = Shared(0)
                let interval = rate > 0 ? 1.0 / Double(rate) : 0
                let began = now()
                try await withThrowingTaskGroup(of: Void.self) { clientsGroup in
                    for _ in 0..<clients {
                        clientsGroup.addTask {
                            while true {
                                let index = next.withLock { n -> Int in
                                    defer { n += 1 }
                                    return n
                                }
                                guard index < jobs.count else { return }
                                let due = began + Double(index) * interval
                                let wait = due - now()
                                if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
                                let (tenant, incident) = jobs[index]
                                _ = try await commands.confirmIncident(
                                    tenant: tenant, incident: incident, priority: .p1, summary: "bench", context: CommandContext(principal: .system("bench")))
                                let at = now()
                                confirmedAt.withLock { $0[incident.description] = at }
                            }
                        }
                    }
                    try await clientsGroup.waitForAll()
                }
                let expected = work.count * 2
                let deadline = now() + 120
                while arrivals.count.withLock({ $0 }) < expected && now() < deadline { try await Task.sleep(for: .milliseconds(20)) }

                let confirmed = confirmedAt.withLock { $0 }
                let arrived = arrivals.times.withLock { $0 }
                var latencies: [Double] = []
                var last = began
                for (incident, times) in arrived {
                    guard let c = confirmed[incident] else { continue }
                    for t in times {
                        latencies.append(max(0, t - c) * 1000)
                        last = max(last, t)
                    }
                }
                let delivered = arrivals.count.withLock { $0 }
                let rateAchieved = Double(delivered) / max(0.001, last - began)
                let p = Percentiles(latencies)

                // The plain PostgreSQL limit for the same number of single-row transactions at the same concurrency.
                try await database.client.query("CREATE TABLE bench_plain (id bigserial PRIMARY KEY, body text NOT NULL)", logger: benchLogger)
                let rows = Shared(0)
                let plain = try await ContinuousClock().measure {
                    try await withThrowingTaskGroup(of: Void.self) { g in
                        for _ in 0..<clients {
                            g.addTask {
                                while rows.withLock({ n -> Bool in
                                    defer { n += 1 }
                                    return n < expected
                                }) {
                                    try await database.client.query(
                                        "INSERT INTO bench_plain (body) VALUES (\(String(repeating: "x", count: 300)))", logger: benchLogger)
                                }
                            }
                        }
                        try await g.waitForAll()
                    }
                }
                let plainRate = Double(expected) / seconds(plain)
                print("confirmed \(work.count) P1 incidents over \(tenants) tenants at \(rate > 0 ? "\(rate)/s" : "full speed") with \(clients) clients; \(delivered) of \(expected) webhooks arrived")
                print("plain PostgreSQL: \(fmt(plainRate)) single-row transactions/s (\(clients) connections); ratio: \(fmt(rateAchieved / plainRate, 2))")
                print("notify: \(fmt(rateAchieved)) deliveries/s, confirm-to-delivered p50: \(fmt(p.p(0.5))) ms, p99: \(fmt(p.p(0.99))) ms")
            }
        }
    }
}

/// Sunday 2026-11-29 10:00 UTC plus the time elapsed: outside office hours for the whole run.
struct SundayClock: TimeSource {
    let origin = Date()
    func now() -> Date { Timestamp.parse("2026-11-29T10:00:00Z")!.addingTimeInterval(Date().timeIntervalSince(origin)) }
}
