import Logging
import MDRApplication
import MDRProjections
import MDRStore
import MDRSyslog

/// The application services one server instance works with, over one database.
public struct AppServices: Sendable {
    /// The connection pool; run it as a service before anything queries.
    public var database: Database
    /// The event log.
    public var store: EventStore
    /// Carries out the commands (onboard, ingest, triage, isolate, release).
    public var commands: CommandService
    /// Reads tenants, incidents, devices and the log.
    public var queries: QueryService
    /// Resolves bearer tokens to principals.
    public var tokens: TokenStore
    /// Reads the projections' views (incidents, devices, signal statistics) and their lag.
    public var views: ReadModels
    /// What this instance's pipeline has done (rounds, decodes), for `/metrics`.
    public var pipeline: PipelineStatistics
    /// The heartbeats of this instance's background loops, for readiness and `/metrics`.
    public var workers: WorkerHealth
    /// Admission control for ingest, shared by the API and the syslog listener (`admission(_:logger:)` makes it).
    public var admission: IngestAdmission?
    /// Requests, ingest outcomes: the metrics this instance records as it works (swift-metrics, Prometheus).
    public var metrics: ServiceMetrics
    /// The syslog listener's counters, when this instance runs one (`/metrics`).
    public var syslog: SyslogCounters?

    /// Services made elsewhere (e.g. a `CommandService` with a test clock and other limits).
    public init(
        database: Database, store: EventStore, commands: CommandService, queries: QueryService, tokens: TokenStore, views: ReadModels? = nil
    ) {
        self.database = database
        self.store = store
        self.commands = commands
        self.queries = queries
        self.tokens = tokens
        self.views = views ?? ReadModels(database: database)
        self.pipeline = PipelineStatistics()
        self.workers = WorkerHealth()
        self.metrics = ServiceMetrics()
        let metrics = self.metrics
        self.pipeline.observeRounds { took, events, failed in metrics.recordRound(took: took, events: events, failed: failed) }
    }

    /// The services over `database`, deciding with `time` (the real clock unless a test brings its own).
    public init(database: Database, time: any TimeSource = SystemTime()) {
        let store = EventStore(database: database)
        self.init(
            database: database, store: store, commands: CommandService(store: store, time: time), queries: QueryService(store: store),
            tokens: TokenStore(database: database))
    }
}

extension AppServices {
    /// The admission control `configuration` asks for (nil when off): the one set on these services, else a new one.
    func admission(_ configuration: ServerConfiguration, logger: Logger) -> IngestAdmission? {
        // Admission control guards ingest: an instance that serves no API (the workers role) has none.
        guard configuration.role.servesAPI, let bound = configuration.ingestMaxLag else { return nil }
        return admission
            ?? IngestAdmission(
                bound: bound, consumers: MDRServerApp.pipelineConsumerNames(configuration), database: database,
                interval: configuration.ingestLagSampleInterval, logger: logger)
    }
}
