import Foundation
import MDRApplication
import MDRConnectors
import MDRDomain
import MDRProjections
import MDRResponse
import MDRStore
import MDRSyslog
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
        let database = services.database
        let (projections, processors, log, timers, notifications, graph, deliveries, actions) = try await withinDeadline {
            let projections = try await views.lag()
            let processors = try await queries.consumerLag(processorNames)
            return (
                projections, processors, try await queries.logSize(), try await views.runningSlaTimerCounts(at: now),
                try await outbox.statistics(now: now), try await connectors.list(), try await outbox.deliveryLatency(now: now),
                try await ResponseStatistics.actionLatency(database: database, now: now)
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
            beats.map { (["worker": $0.worker], (instant - $0.lastRound).inSeconds) }
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
        text.gauge("mdr_notification_deliveries_last_hour", "Notifications delivered in the last hour, by channel (all instances).") {
            deliveries.map { (["channel": $0.channel], Double($0.delivered)) }
        }
        text.gauge("mdr_notification_attempts_last_hour", "Attempts the notifications delivered in the last hour took, by channel.") {
            deliveries.map { (["channel": $0.channel], Double($0.attempts)) }
        }
        text.gauge("mdr_notification_delivery_latency_seconds", "From when a notification was due to its delivery, over the last hour's deliveries, by channel and quantile.") {
            deliveries.flatMap { [(["channel": $0.channel, "quantile": "0.5"], $0.p50), (["channel": $0.channel, "quantile": "0.99"], $0.p99)] }
        }
        text.gauge("mdr_edr_actions_last_hour", "EDR actions (isolate, release, stop and quarantine) finished in the last hour, by action and outcome.") {
            actions.map { (["action": $0.action, "outcome": $0.outcome], Double($0.count)) }
        }
        text.gauge("mdr_edr_action_latency_seconds", "From an EDR request to its recorded outcome, over the last hour, by action, outcome and quantile.") {
            actions.flatMap { a in
                [(["action": a.action, "outcome": a.outcome, "quantile": "0.5"], a.p50), (["action": a.action, "outcome": a.outcome, "quantile": "0.99"], a.p99)]
            }
        }
        let pools = [("service", database.usage)] + (database.tenantUsage.map { [("tenant", $0)] } ?? [])
        text.gauge("mdr_db_pool_connections_max", "The size of each database pool of this instance (service: MDR_DATABASE_URL; tenant: MDR_TENANT_DATABASE_URL).") {
            pools.map { (["pool": $0.0], Double($0.1.maximum)) }
        }
        text.gauge("mdr_db_pool_connections_held", "Connections of each pool held by a task of this instance now (transactions, rounds, tenant scopes, LISTEN).") {
            pools.map { (["pool": $0.0], Double($0.1.held)) }
        }
        text.gauge("mdr_db_pool_requests_waiting", "Tasks of this instance waiting for a connection of each pool now (a single query: until its first answer).") {
            pools.map { (["pool": $0.0], Double($0.1.waiting)) }
        }
        if let syslog = services.syslog?.snapshot {
            text.counter("mdr_syslog_messages_total", "Syslog messages this instance's listener received, and what became of them.") {
                [
                    ("received", syslog.received), ("unknown_sender", syslog.unknownSender), ("unreadable", syslog.unreadable),
                    ("framing_error", syslog.framingErrors), ("accepted", syslog.accepted), ("duplicate", syslog.duplicates),
                    ("updated", syslog.updated), ("suppressed", syslog.suppressed), ("rejected", syslog.rejected), ("failed", syslog.failed),
                    ("dropped_under_load", syslog.droppedUnderLoad),
                ].map { (["outcome": $0.0], Double($0.1)) }
            }
        }
        // Per state and worst tenant, not per tenant (no tenant ids in the metrics): GET …/connectors names them.
        text.gauge("mdr_graph_connectors", "Tenants whose alerts the Graph connector pulls, by the state of their last pull (pending, ok, failing).") {
            ["pending", "ok", "failing"].map { state in
                (["state": state], Double(graph.filter { GraphConnectorHealth.state($0.health) == state }.count))
            }
        }
        text.gauge("mdr_graph_connector_seconds_since_success", "Seconds since the last complete Graph alerts sweep of the connected tenant that has waited longest (0: none connected).") {
            [([:], graph.map { $0.health.lag(at: now, setAt: $0.createdAt) }.max() ?? 0)]
        }
        text.counter("mdr_graph_connector_alerts_total", "Alerts the Graph connector handed to ingest, all tenants (duplicates and updates included).") {
            [([:], Double(graph.reduce(0) { $0 + $1.health.alertsIngested }))]
        }
        return .ok(.init(body: .plainText(HTTPBody(text.output + services.metrics.exposition()))))
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
