import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import MDRStore
import MDRTestSupport
import PostgresNIO

let acme = TenantID(rawValue: "acme")!
let globex = TenantID(rawValue: "globex")!
/// Sunday 2026-11-29 10:00 UTC (11:00 in Amsterdam).
let t0 = Timestamp.parse("2026-11-29T10:00:00Z")!

/// A tenant log driven through the real command service and correlator, and the projections over it.
struct ProjectionHarness {
    let database: Database
    let store: EventStore
    let commands: CommandService
    let time: ManualTime
    let correlator: TenantPipeline
    let runner: TenantPipeline

    init(_ database: Database, pageSize: Int = 2000) {
        self.database = database
        store = EventStore(database: database)
        time = ManualTime(t0)
        commands = CommandService(store: store, time: time)
        correlator = TenantPipeline([ProcessManager(CorrelationProcessor())], store: store, logger: TestDatabase.logger)
        runner = TenantPipeline(ReadModels.standard(), store: store, configuration: .init(pageSize: pageSize), logger: TestDatabase.logger)
    }

    var views: ReadModels { ReadModels(database: database) }

    func context(_ principal: Principal = Fixtures.soc) -> CommandContext {
        CommandContext(principal: principal, commandID: nil)
    }

    func onboard(_ tenant: TenantID) async throws {
        _ = try await commands.onboardTenant(Fixtures.onboard(tenant.rawValue), context: context(Fixtures.dynamic))
    }

    @discardableResult
    func ingest(_ signals: [[String: Any]], tenant: TenantID = acme) async throws -> IngestReport {
        try await commands.ingestNativeSignals(tenant: tenant, body: Fixtures.signalBatch(signals), context: context()).result
    }

    /// The incidents the correlator opened so far, in log order, with the devices they involve.
    func openedIncidents(_ tenant: TenantID = acme) async throws -> [(IncidentID, [DeviceID])] {
        try await correlator.drain()
        var found: [(IncidentID, [DeviceID])] = []
        for e in try await store.readLog(tenant: tenant, after: 0, limit: 100_000, types: [IncidentOpened.eventType]) {
            if case .incidentOpened(let opened) = try e.decoded() { found.append((opened.incidentID, opened.devices)) }
        }
        return found
    }

    /// Appends what the EDR would report (no responder exists yet): isolated, failed or released.
    func edrReports(_ event: DomainEvent, tenant: TenantID = acme) async throws {
        _ = try await store.append(
            tenant: tenant, events: [EventToAppend(event, metadata: EventMetadata(principal: .system("edr")))], expectations: [:], command: nil)
    }

    /// Every row of every view table, as PostgreSQL's JSON text of the row, per table in a fixed order.
    func snapshot() async throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for table in Self.viewTables {
            let rows = try await database.client.query(
                PostgresQuery(unsafeSQL: "SELECT to_jsonb(t)::text FROM \(table) t ORDER BY 1"), logger: TestDatabase.logger)
            var lines: [String] = []
            for try await line in rows.decode(String.self) { lines.append(line) }
            out[table] = lines
        }
        return out
    }

    static let viewTables = [
        "device_isolation_view", "device_isolation_history_view", "signal_statistics_view", "incident_view", "incident_signal_view",
        "signal_view", "incident_timeline_view",
    ]
}
