import Foundation
import MDRApplication
import MDRConnectors
import MDRDomain
import MDRProjections
import MDRStore
import OpenAPIRuntime

// MARK: - Metrics (Prometheus text format)

extension APIHandler {
    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        try authorizeAcrossTenants("may not read the service's metrics")
        let views = services.views
        let queries = services.queries
        let now = Date()
        let outbox = NotificationOutbox(database: services.database)
        let processorNames = MDRServerApp.processManagers
        let connectors = GraphConnectionStore(database: services.database)
        let (projections, processors, log, timers, notifications, graph) = try await withinDeadline {
            let projections = try await views.lag()
            let processors = try await queries.consumerLag(processorNames)
            return (
                projections, processors, try await queries.logSize(), try await views.runningSlaTimerCounts(at: now),
                try await outbox.statistics(now: now), try await connectors.list()
            )
        }
        var text = MetricsText()
        let names = ReadModels.standard().map(\.name)
        text.gauge("mdr_projection_events_behind", "Events of the log a view has not applied yet, summed over tenants.") {
            names.map { name in (["projection": name], Double(projections.filter { $0.consumer == name }.reduce(0) { $0 + $1.eventsBehind })) }
        }
        text.gauge("mdr_projection_seconds_behind", "Age of the oldest event a view has not applied yet, worst tenant.") {
            names.map { name in (["projection": name], projections.filter { $0.consumer == name }.map(\.secondsBehind).max() ?? 0) }
        }
        text.gauge("mdr_processor_events_behind", "Events a process manager has not handled yet, summed over tenants.") {
            processorNames.map { name in (["processor": name], Double(processors.filter { $0.consumer == name }.reduce(0) { $0 + $1.eventsBehind })) }
        }
        text.gauge("mdr_processor_seconds_behind", "Age of the oldest event a process manager has not handled yet, worst tenant.") {
            processorNames.map { name in (["processor": name], processors.filter { $0.consumer == name }.map(\.secondsBehind).max() ?? 0) }
        }
        let consumers = names + processorNames
        let lags = projections + processors
        text.gauge("mdr_consumer_parked_tenants", "Tenants on whose log a consumer of the pipeline is parked: it fails on an event and waits for its retry.") {
            consumers.map { name in (["consumer": name], Double(lags.filter { $0.consumer == name && $0.isParked }.count)) }
        }
        let pipeline = services.pipeline
        text.counter("mdr_pipeline_rounds_total", "Rounds of the pipeline in this instance (one tenant, one page, one transaction).") {
            [([:], Double(pipeline.roundCount))]
        }
        text.counter("mdr_pipeline_events_read_total", "Events the pipeline's pages read in this instance.") { [([:], Double(pipeline.eventsRead))] }
        text.counter("mdr_pipeline_events_decoded_total", "Stored events the pipeline decoded in this instance (once per event read, and when a process manager catches up).") {
            [([:], Double(pipeline.decodeCount))]
        }
        text.counter("mdr_pipeline_consumer_failures_total", "Rounds in this instance in which a consumer failed (and was set aside or parked).") {
            [([:], Double(pipeline.consumerFailures))]
        }
        let instant = ContinuousClock.now, beats = services.workers.all
        text.gauge("mdr_worker_seconds_since_round", "Seconds since each background loop of this instance last completed a round (idle loops complete one per poll interval; /health/ready fails past 120).") {
            beats.map { (["worker": $0.worker], Self.seconds(instant - $0.lastRound)) }
        }
        text.gauge("mdr_worker_failed_rounds", "Rounds of each background loop of this instance that failed since its last completed one.") {
            beats.map { (["worker": $0.worker], Double($0.failuresInARow)) }
        }
        text.gauge("mdr_log_events", "Events in the log, all tenants.") { [([:], Double(log.events))] }
        text.gauge("mdr_tenants", "Tenants with a log.") { [([:], Double(log.tenants))] }
        text.gauge("mdr_sla_timers_running", "SLA timers not stopped, all tenants.") { [([:], Double(timers.running))] }
        text.gauge("mdr_sla_timers_overdue", "Running SLA timers past their deadline (breach being recorded).") { [([:], Double(timers.overdue))] }
        text.gauge("mdr_notifications", "Notifications (one per route) by delivery status, all tenants; delivered ones are not counted.") {
            [(["status": "pending"], Double(notifications.pending)), (["status": "failed"], Double(notifications.failed))]
        }
        text.gauge("mdr_notification_oldest_due_seconds", "How long the oldest due, undelivered notification has waited (0: none).") {
            [([:], notifications.oldestDueSeconds)]
        }
        text.gauge("mdr_notification_oldest_undelivered_p1_seconds", "How long ago the oldest P1 notice that is still being tried was due, retries included (0: none).") {
            [([:], notifications.oldestUndeliveredP1Seconds)]
        }
        text.gauge("mdr_graph_connector_seconds_since_success", "Seconds since each connected tenant's last complete Graph alerts sweep (since it was connected when there was none).") {
            graph.map { (["tenant": $0.tenant.rawValue], $0.health.lag(at: now, setAt: $0.createdAt)) }
        }
        text.gauge("mdr_graph_connector_failures", "Failed Graph alerts pulls of each connected tenant since its last success.") {
            graph.map { (["tenant": $0.tenant.rawValue], Double($0.health.failures)) }
        }
        text.counter("mdr_graph_connector_alerts_total", "Alerts each connected tenant's Graph connector handed to ingest (duplicates and updates included).") {
            graph.map { (["tenant": $0.tenant.rawValue], Double($0.health.alertsIngested)) }
        }
        return .ok(.init(body: .plainText(HTTPBody(text.output + services.metrics.exposition()))))
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// The Prometheus text exposition format (version 0.0.4), for gauges.
struct MetricsText {
    private(set) var output = ""

    mutating func gauge(_ name: String, _ help: String, _ samples: () -> [([String: String], Double)]) {
        metric(name, "gauge", help, samples)
    }

    mutating func counter(_ name: String, _ help: String, _ samples: () -> [([String: String], Double)]) {
        metric(name, "counter", help, samples)
    }

    private mutating func metric(_ name: String, _ type: String, _ help: String, _ samples: () -> [([String: String], Double)]) {
        output += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for (labels, value) in samples() {
            let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",")
            output += name + (rendered.isEmpty ? "" : "{\(rendered)}") + " " + Self.format(value) + "\n"
        }
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
