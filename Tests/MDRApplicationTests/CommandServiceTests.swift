import Foundation
import MDRApplication
import MDRDomain
import MDRStore
import MDRTestSupport
import Testing

let acme = TenantID(rawValue: "acme")!
let t0 = Date(timeIntervalSince1970: 1_795_000_000)

struct Harness {
    let store: EventStore
    let commands: CommandService
    let queries: QueryService
    let time: ManualTime
    let processor: TenantPipeline

    init(_ db: Database) {
        store = EventStore(database: db)
        time = ManualTime(t0)
        commands = CommandService(store: store, time: time)
        queries = QueryService(store: store)
        processor = TenantPipeline([ProcessManager(CorrelationProcessor())], store: store, logger: TestDatabase.logger)
    }

    func context(_ principal: Principal = Fixtures.soc, key: String? = nil) -> CommandContext {
        CommandContext(principal: principal, commandID: key)
    }

    func onboard(_ id: String = "acme") async throws {
        _ = try await commands.onboardTenant(Fixtures.onboard(id), context: context(Fixtures.dynamic))
    }

    func ingest(_ signals: [[String: Any]], tenant: TenantID = acme, key: String? = nil) async throws -> CommandOutcome<IngestReport> {
        try await commands.ingestNativeSignals(tenant: tenant, body: Fixtures.signalBatch(signals), context: context(key: key))
    }

    func types() async throws -> [String] {
        try await store.readLog(tenant: acme, after: 0).map(\.type)
    }

    /// The incidents in the log, by id, as their streams make them.
    func incidents() async throws -> [Incident] {
        var found: [Incident] = []
        for e in try await store.readLog(tenant: acme, after: 0, limit: 100_000) where e.type == IncidentOpened.eventType {
            guard case .incidentOpened(let opened) = try e.decoded() else { continue }
            if let (incident, _) = try await queries.incident(tenant: acme, opened.incidentID) { found.append(incident) }
        }
        return found
    }
}

func expectRefusal(_ code: DomainError.Code, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected the refusal \(code.rawValue), but the command succeeded")
    } catch let error as DomainError {
        #expect(error.code == code)
    } catch {
        Issue.record("expected the refusal \(code.rawValue), got \(String(reflecting: error))")
    }
}

@Suite("Commands against the event log")
struct CommandServiceTests {
    @Test func onboardingAppendsTheTenantAndRefusesItTwice() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            try await h.onboard()
            let tenant = try #require(try await h.queries.tenant(acme))
            #expect(tenant.sla == .a)
            #expect(tenant.mdrStatus == .included)
            #expect(tenant.onboardedAt == t0)
            await expectRefusal(.tenantExists) { try await h.onboard() }
            #expect(try await h.types() == ["TenantOnboarded"])
        }
    }

    @Test func aRefusedOnboardingAppendsNothing() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            var command = Fixtures.onboard("acme")
            command.package = .modern
            await expectRefusal(.mdrNotAvailable) { _ = try await h.commands.onboardTenant(command, context: h.context(Fixtures.dynamic)) }
            let head = try await h.store.head(tenant: acme)
            #expect(head == 0)
        }
    }

    @Test func aRepeatedIdempotencyKeyReturnsTheFirstOutcomeAndAppendsNothing() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            let first = try await h.commands.onboardTenant(Fixtures.onboard("acme"), context: h.context(Fixtures.dynamic, key: "k1"))
            h.time.advance(by: 60)
            let again = try await h.commands.onboardTenant(Fixtures.onboard("acme"), context: h.context(Fixtures.dynamic, key: "k1"))
            #expect(!first.repeated)
            #expect(again.repeated)
            #expect(again.result == first.result)
            #expect(again.firstPosition == first.firstPosition)
            #expect(try await h.store.head(tenant: acme) == 1)
            var other = Fixtures.onboard("acme")
            other.name = "Another name"
            await expectRefusal(.idempotencyKeyReused) {
                _ = try await h.commands.onboardTenant(other, context: h.context(Fixtures.dynamic, key: "k1"))
            }
        }
    }

    @Test func anIdempotencyKeyIsUpTo200CharactersNotBytes() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            // 200 characters of two bytes each: within the documented maxLength (JSON Schema counts characters).
            let long = String(repeating: "é", count: 200)
            _ = try await h.commands.onboardTenant(Fixtures.onboard("acme"), context: h.context(Fixtures.dynamic, key: long))
            await expectRefusal(.invalidIdempotencyKey) {
                _ = try await h.commands.onboardTenant(Fixtures.onboard("globex"), context: h.context(Fixtures.dynamic, key: long + "é"))
            }
            await expectRefusal(.invalidIdempotencyKey) {
                _ = try await h.commands.onboardTenant(Fixtures.onboard("globex"), context: h.context(Fixtures.dynamic, key: ""))
            }
        }
    }

    @Test func ingestReportsEachSignalAndOneBadSignalLosesNothing() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            try await h.onboard()
            var bad = Fixtures.signal(alert: "a2")
            bad["severity"] = "apocalyptic"
            let outcome = try await h.ingest([Fixtures.signal(alert: "a1"), bad, Fixtures.signal(alert: "a3")])
            #expect(outcome.result.accepted == 2)
            #expect(outcome.result.rejected == 1)
            #expect(outcome.result.items.map(\.outcome) == [.accepted, .rejected, .accepted])
            #expect(outcome.result.items[1].reason?.contains("severity") == true)
            #expect(try await h.types() == ["TenantOnboarded", "SignalIngested", "SignalIngested"])
        }
    }

    @Test func aRepeatedAlertIsADuplicateAndANewStatusIsAnUpdate() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            try await h.onboard()
            let first = try await h.ingest([Fixtures.signal(alert: "a1")])
            let again = try await h.ingest([Fixtures.signal(alert: "a1"), Fixtures.signal(alert: "a1")])
            #expect(again.result.items.map(\.outcome) == [.duplicate, .duplicate])
            #expect(again.result.items[0].signalID == first.result.items[0].signalID)
            #expect(again.firstPosition == nil)
            let updated = try await h.ingest([Fixtures.signal(alert: "a1", status: "resolved")])
            #expect(updated.result.items.map(\.outcome) == [.updated])
            #expect(try await h.types() == ["TenantOnboarded", "SignalIngested", "SignalUpdated"])
        }
    }

    @Test func ingestIntoAnUnknownTenantIsRefused() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            await expectRefusal(.tenantNotFound) { _ = try await h.ingest([Fixtures.signal(alert: "a1")]) }
            let head = try await h.store.head(tenant: acme)
            #expect(head == 0)
        }
    }

    @Test func aBatchAboveTheLimitIsRefusedWhole() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            try await h.onboard()
            var commands = h.commands
            commands.maxBatchSize = 2
            await expectRefusal(.batchTooLarge) {
                _ = try await commands.ingestNativeSignals(
                    tenant: acme, body: Fixtures.signalBatch((1...3).map { Fixtures.signal(alert: "a\($0)") }), context: h.context())
            }
            await expectRefusal(.batchEmpty) {
                _ = try await commands.ingestNativeSignals(tenant: acme, body: Fixtures.signalBatch([]), context: h.context())
            }
        }
    }
}

@Suite("Incidents and isolation against the event log")
struct IncidentFlowTests {
    func openIncident(_ h: Harness, device: String = "ws-0042") async throws -> IncidentID {
        _ = try await h.ingest([Fixtures.signal(alert: "alert-\(device)", device: device)])
        try await h.processor.drain()
        return try #require(try await h.incidents().first { $0.devices.contains(DeviceID(rawValue: device)!) }?.id)
    }

    @Test func signalsAboutOneDeviceOpenOneIncidentUntilItIsClosed() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            try await h.onboard()
            _ = try await h.ingest([Fixtures.signal(alert: "a1"), Fixtures.signal(alert: "a2"), Fixtures.signal(alert: "b1", device: "ws-0007")])
            try await h.processor.drain()
            _ = try await h.ingest([Fixtures.signal(alert: "a3"), Fixtures.signal(alert: "i1", severity: "informational")])
            try await h.processor.drain()
            var incidents = try await h.incidents()
            #expect(incidents.count == 2)
            let first = try #require(incidents.first { $0.devices == [DeviceID(rawValue: "ws-0042")!] })
            // a1, a2, a3, and the informational i1 as context (it opens nothing, but the SOC sees it in the incident).
            #expect(first.signals.count == 4)
            // Resolved incidents are not reopened: a new signal opens a new incident.
            _ = try await h.commands.confirmIncident(tenant: acme, incident: first.id, priority: .p2, summary: "ransomware", context: h.context())
            _ = try await h.commands.resolveIncident(tenant: acme, incident: first.id, resolution: "reimaged", context: h.context())
            try await h.processor.drain()
            _ = try await h.ingest([Fixtures.signal(alert: "a4")])
            try await h.processor.drain()
            incidents = try await h.incidents()
            #expect(incidents.count == 3)
            #expect(incidents.filter { $0.devices.contains(DeviceID(rawValue: "ws-0042")!) && $0.status == .open }.count == 1)
        }
    }

    @Test func confirmIsolateAndReleaseADevice() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            try await h.onboard()
            let incident = try await openIncident(h)
            let device = DeviceID(rawValue: "ws-0042")!
            await expectRefusal(.incidentNotConfirmed) {
                _ = try await h.commands.isolateDevice(tenant: acme, device: device, incident: incident, type: .full, comment: "ransomware", context: h.context())
            }
            let confirmed = try await h.commands.confirmIncident(tenant: acme, incident: incident, priority: .p1, summary: "ransomware", context: h.context())
            #expect(confirmed.result.status == .confirmed)
            await expectRefusal(.incidentAlreadyConfirmed) {
                _ = try await h.commands.confirmIncident(tenant: acme, incident: incident, priority: .p1, summary: "again", context: h.context())
            }
            await expectRefusal(.deviceNotInIncident) {
                _ = try await h.commands.isolateDevice(
                    tenant: acme, device: DeviceID(rawValue: "ws-9999")!, incident: incident, type: .full, comment: "x", context: h.context())
            }
            let isolated = try await h.commands.isolateDevice(tenant: acme, device: device, incident: incident, type: .full, comment: "ransomware", context: h.context())
            #expect(isolated.result.state == .pending)
            await expectRefusal(.deviceIsolationPending) {
                _ = try await h.commands.isolateDevice(tenant: acme, device: device, incident: incident, type: .full, comment: "again", context: h.context())
            }
            let released = try await h.commands.releaseDevice(tenant: acme, device: device, reason: "threat cleaned up", context: h.context())
            #expect(released.result.state == .releasePending)
            await expectRefusal(.deviceReleasePending) {
                _ = try await h.commands.releaseDevice(tenant: acme, device: device, reason: "again", context: h.context())
            }
            let view = try await h.queries.device(tenant: acme, device)
            #expect(view.history.map(\.state) == [.pending, .releasePending])
            #expect(view.history.first?.by == Fixtures.soc.id)
            await expectRefusal(.deviceNotIsolated) {
                _ = try await h.commands.releaseDevice(tenant: acme, device: DeviceID(rawValue: "ws-0001")!, reason: "x", context: h.context())
            }
        }
    }

    @Test func anIncidentOfAnotherTenantIsNotFound() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let h = Harness(db)
            try await h.onboard()
            try await h.onboard("globex")
            let incident = try await openIncident(h)
            let globex = TenantID(rawValue: "globex")!
            await expectRefusal(.incidentNotFound) {
                _ = try await h.commands.confirmIncident(tenant: globex, incident: incident, priority: .p1, summary: "x", context: h.context())
            }
            await expectRefusal(.incidentNotFound) {
                _ = try await h.commands.isolateDevice(
                    tenant: globex, device: DeviceID(rawValue: "ws-0042")!, incident: incident, type: .full, comment: "x", context: h.context())
            }
            #expect(try await h.store.head(tenant: globex) == 1)
        }
    }
}
