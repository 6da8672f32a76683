import Logging
import MDRApplication
import MDRConnectors
import MDRNotify
import MDRProjections
import MDRResponse
import MDRStore
import MDRSyslog
import ServiceLifecycle

extension MDRServerApp {
    /// What runs beside the HTTP server: the append notifier, ONE pipeline over every tenant's log feeding the process
    /// managers (correlator, notifier, responder's planner) and the views, the SLA clock, the responder, the Graph alerts
    /// connector, the delivery workers (when notifications are configured), and the syslog listener (when configured).
    ///
    /// By the instance's role: `api` runs only the append notifier (its appends wake the workers of other instances) and
    /// the syslog listener; `workers` runs everything but the syslog listener (ingest is the API's part).
    public static func backgroundServices(services: AppServices, configuration: ServerConfiguration, logger: Logger) -> [any Service] {
        var background: [any Service] = [AppendNotifier(store: services.store)]
        if configuration.role.runsWorkers {
            background += workers(services: services, configuration: configuration, logger: logger)
        }
        if configuration.role.servesAPI, let syslog = configuration.syslog {
            background.append(
                SyslogListener(
                    configuration: syslog, commands: services.commands, database: services.database, admission: services.admission,
                    counters: services.syslog ?? SyslogCounters(), logger: logger))
        }
        return background
    }

    /// The pipeline and the workers of the `workers` (and `all`) role.
    static func workers(services: AppServices, configuration: ServerConfiguration, logger: Logger) -> [any Service] {
        let responder = Responder(
            store: services.store, connectors: DefenderConnectors(store: EDRConnectionStore(database: services.database)), time: SystemTime(),
            configuration: configuration.responderWithPollInterval,
            health: services.workers, logger: logger)
        var consumers: [any LogConsumer] = [ProcessManager(CorrelationProcessor())]
        var workers: [any Service] = [
            SlaClock(store: services.store, time: SystemTime(), pollInterval: configuration.pollInterval, health: services.workers, logger: logger),
            responder,
            GraphAlertPoller(
                store: GraphConnectionStore(database: services.database), commands: services.commands, time: SystemTime(),
                configuration: configuration.graphConnector, health: services.workers, logger: logger),
        ]
        if let settings = configuration.notifications {
            let (notifier, delivery) = NotificationDeliveryService.make(
                settings: settings, store: services.store, health: services.workers, logger: logger)
            consumers.append(notifier)
            workers.append(delivery)
        }
        consumers.append(ProcessManager(responder.planner))
        consumers += ReadModels.standard()
        let pipeline = TenantPipeline(
            consumers, store: services.store, configuration: .init(pollInterval: configuration.pollInterval), statistics: services.pipeline,
            health: services.workers, logger: logger)
        return [pipeline] + workers
    }

    /// The names of the consumers `backgroundServices` runs in the pipeline (admission control watches their lag).
    static func pipelineConsumerNames(_ configuration: ServerConfiguration) -> [String] {
        ["correlator"] + (configuration.notifications == nil ? [] : ["notifier"]) + ["responder"] + ReadModels.standard().map(\.name)
    }

    /// The consumers whose lag `/metrics` and `GET /v1/projections` report as process managers.
    static let processManagers = ["correlator", "notifier", "responder"]
}
