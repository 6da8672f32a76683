import Foundation
import HTTPTypes
import MDRApplication
import MDRDomain
import MDRProjections
import MDRServer
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

/// `GET /metrics`: the lag of the views and of the correlator, the log's size and the SLA timers, for a scraper.
@Suite struct MetricsTests {
    /// The value of one sample line (`name{labels} value`).
    func sample(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test func lagShowsUntilTheCorrelatorAndTheViewsCatchUp() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let ingested = try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": [Fixtures.signal(alert: "a-1")]])
            #expect(ingested.status == .ok, "\(ingested.text)")
            let soc = try await api.token(.soc)

            let before = try await api.get("/metrics", token: soc)
            #expect(before.status == .ok, "\(before.text)")
            #expect(before.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(before.text.contains("# TYPE mdr_processor_events_behind gauge"))
            #expect(sample(before.text, #"mdr_processor_events_behind{processor="correlator"}"#) == 2, "onboarding and the signal")
            #expect(sample(before.text, #"mdr_projection_events_behind{projection="incidents"}"#) == 2)
            #expect((sample(before.text, #"mdr_processor_seconds_behind{processor="correlator"}"#) ?? -1) >= 0)
            #expect(sample(before.text, "mdr_log_events") == 2)
            #expect(sample(before.text, "mdr_tenants") == 1)
            #expect(!before.text.contains("acme-bv"), "no tenant ids in the metrics")

            try await TenantPipeline([ProcessManager(CorrelationProcessor())], store: api.services.store, logger: TestDatabase.logger).drain()
            try await TenantPipeline(ReadModels.standard(), store: api.services.store, logger: TestDatabase.logger).drain()
            let after = try await api.get("/metrics", token: soc)
            #expect(sample(after.text, #"mdr_processor_events_behind{processor="correlator"}"#) == 0)
            #expect(sample(after.text, #"mdr_processor_seconds_behind{processor="correlator"}"#) == 0)
            #expect(sample(after.text, #"mdr_projection_events_behind{projection="incidents"}"#) == 0)
            #expect(sample(after.text, "mdr_log_events") == 3, "the incident the correlator opened")
            #expect(sample(after.text, "mdr_sla_timers_running") == 1, "its triage timer")
            #expect(sample(after.text, "mdr_sla_timers_overdue") == 0)
            // The notifier did not run here: it is behind by the whole log, and nothing is queued.
            #expect(sample(after.text, #"mdr_processor_events_behind{processor="notifier"}"#) == 3)
            #expect(sample(after.text, #"mdr_notifications{status="pending"}"#) == 0)
            #expect(sample(after.text, "mdr_notification_oldest_due_seconds") == 0)
            #expect(sample(after.text, "mdr_notification_oldest_undelivered_p1_seconds") == 0)
            #expect(sample(after.text, #"mdr_consumer_parked_tenants{consumer="incidents"}"#) == 0)

            // A view parked on an event it fails on (as the pipeline records it) shows, by name.
            try await api.services.database.client.query(
                """
                UPDATE consumer_checkpoints SET failures = 3, failing_position = 2, last_error = 'bug', retry_at = now() + interval '1 minute'
                WHERE tenant_id = 'acme-bv' AND consumer = 'incidents'
                """, logger: TestDatabase.logger)
            let parked = try await api.get("/metrics", token: soc)
            #expect(sample(parked.text, #"mdr_consumer_parked_tenants{consumer="incidents"}"#) == 1)
            #expect(sample(parked.text, #"mdr_consumer_parked_tenants{consumer="correlator"}"#) == 0)
            #expect(parked.text.contains("# TYPE mdr_pipeline_rounds_total counter"))
        }
    }

    @Test func onlyTheSOCAndDynamicReadTheMetrics() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            #expect(try await api.get("/metrics", token: try await api.token(.dynamic)).status == .ok)
            expectProblem(try await api.get("/metrics", token: try await api.token(.customer, "acme-bv")), .forbidden, "forbidden")
            expectProblem(try await api.get("/metrics", token: try await api.token(.connector, "acme-bv")), .forbidden, "forbidden")
            #expect(try await api.get("/metrics", token: nil).status == .unauthorized)
        }
    }
}
