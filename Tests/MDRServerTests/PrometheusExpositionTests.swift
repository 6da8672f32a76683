import Foundation
import HTTPTypes
import MDRApplication
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// `/metrics` as a Prometheus server reads it (issue 18): the text format parsed strictly, the request metrics per route
/// template, method and status (with a duration histogram), and the ingest outcomes.
@Suite struct PrometheusExpositionTests {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Exposition {
        var types: [String: String] = [:]
        var samples: [Sample] = []

        func values(_ name: String, _ labels: [String: String] = [:]) -> [Double] {
            samples.filter { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }.map(\.value)
        }
    }

    struct Malformed: Error, CustomStringConvertible {
        var line: String
        var description: String { "not Prometheus text format: \(line)" }
    }

    /// The text exposition format (version 0.0.4): `# HELP`, `# TYPE`, and `name{label="value",…} value` lines; each
    /// sample's family declared by a `# TYPE` line before it; label values with `\\`, `\"` and `\n` escapes.
    static func parse(_ text: String) throws -> Exposition {
        var exposition = Exposition()
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("# HELP ") { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else { throw Malformed(line: line) }
                exposition.types[String(parts[2])] = String(parts[3])
                continue
            }
            guard !line.hasPrefix("#") else { throw Malformed(line: line) }
            var rest = Substring(line)
            let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
            guard !name.isEmpty, !(name.first!.isNumber) else { throw Malformed(line: line) }
            rest = rest.dropFirst(name.count)
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    let key = String(rest.prefix { $0 != "=" })
                    rest = rest.dropFirst(key.count)
                    guard rest.hasPrefix("=\"") else { throw Malformed(line: line) }
                    rest = rest.dropFirst(2)
                    var value = ""
                    while let c = rest.first, c != "\"" {
                        rest = rest.dropFirst()
                        if c == "\\" {
                            guard let escaped = rest.first else { throw Malformed(line: line) }
                            rest = rest.dropFirst()
                            switch escaped {
                            case "\\": value.append("\\")
                            case "\"": value.append("\"")
                            case "n": value.append("\n")
                            default: throw Malformed(line: line)
                            }
                        } else {
                            value.append(c)
                        }
                    }
                    guard rest.first == "\"" else { throw Malformed(line: line) }
                    rest = rest.dropFirst()
                    labels[key] = value
                    if rest.first == "," { rest = rest.dropFirst() }
                }
                rest = rest.dropFirst()
            }
            guard rest.first == " ", let value = Double(rest.dropFirst().split(separator: " ").first.map(String.init) ?? "")
                ?? (rest.dropFirst().hasPrefix("+Inf") ? Double.infinity : nil)
            else { throw Malformed(line: line) }
            let family = ["_bucket", "_sum", "_count"].first { name.hasSuffix($0) && exposition.types[String(name.dropLast($0.count))] == "histogram" }
                .map { String(name.dropLast($0.count)) } ?? name
            guard exposition.types[family] != nil else { throw Malformed(line: "no # TYPE for \(family): \(line)") }
            exposition.samples.append(Sample(name: name, labels: labels, value: value))
        }
        return exposition
    }

    @Test func requestsAndIngestOutcomesAreExposedPerRouteTemplate() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let batch = ["signals": [Fixtures.signal(alert: "a-1"), Fixtures.signal(alert: "a-2"), ["source": "endpoint"]]]
            #expect(try await api.post("/v1/tenants/acme-bv/signals", token: connector, batch).status == .ok)
            #expect(try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": [Fixtures.signal(alert: "a-1")]]).status == .ok)
            let soc = try await api.token(.soc)
            #expect(try await api.get("/v1/tenants/acme-bv/incidents/\(UUID())", token: soc).status == .notFound)
            #expect(try await api.get("/v1/tenants/acme-bv", token: nil).status == .unauthorized)

            // A pipeline of this instance: its rounds are timed.
            try await TenantPipeline(
                [ProcessManager(CorrelationProcessor())], store: api.services.store, statistics: api.services.pipeline, logger: TestDatabase.logger
            ).drain()

            let scraped = try await api.get("/metrics", token: soc)
            let exposition = try Self.parse(String(decoding: scraped.body, as: UTF8.self))
            #expect(exposition.types["mdr_http_requests_total"] == "counter")
            #expect(exposition.types["mdr_http_request_duration_seconds"] == "histogram")
            #expect(exposition.types["mdr_processor_events_behind"] == "gauge", "the gauges computed from the database stay")

            let ingestRoute = try #require(
                exposition.samples.first { $0.name == "mdr_http_requests_total" && $0.labels["method"] == "POST" && $0.labels["route"]?.hasSuffix("/signals") == true }?
                    .labels["route"])
            #expect(!ingestRoute.contains("acme-bv"), "a template, not the path: \(ingestRoute)")
            #expect(exposition.values("mdr_http_requests_total", ["route": ingestRoute, "status": "200"]) == [2])
            let incidentRoute = exposition.samples.first { $0.name == "mdr_http_requests_total" && $0.labels["status"] == "404" }?.labels["route"]
            #expect(incidentRoute?.contains("incidents") == true && incidentRoute?.contains("acme-bv") == false, "\(incidentRoute ?? "-")")
            #expect(exposition.values("mdr_http_requests_total", ["status": "401"]).reduce(0, +) == 1)

            // The histogram: cumulative buckets up to +Inf, which equals the count.
            let buckets = exposition.samples.filter { $0.name == "mdr_http_request_duration_seconds_bucket" && $0.labels["route"] == ingestRoute }
            #expect(buckets.count > 5)
            #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.value <= $1.value }, "cumulative")
            #expect(buckets.last?.labels["le"] == "+Inf" && buckets.last?.value == 2)
            #expect(exposition.values("mdr_http_request_duration_seconds_count", ["route": ingestRoute]) == [2])

            #expect(exposition.values("mdr_ingest_signals_total", ["format": "native", "outcome": "accepted"]) == [2])
            #expect(exposition.values("mdr_ingest_signals_total", ["format": "native", "outcome": "rejected"]) == [1])
            #expect(exposition.values("mdr_ingest_signals_total", ["format": "native", "outcome": "duplicate"]) == [1])
            #expect(exposition.types["mdr_pipeline_round_duration_seconds"] == "histogram")
            #expect((exposition.values("mdr_pipeline_round_duration_seconds_count", ["outcome": "completed"]).first ?? 0) >= 1)
            #expect(exposition.values("mdr_pipeline_round_events_total", ["outcome": "completed"]) == [2], "the two signals: the correlator reads no onboarding")
            // The database pool as this instance uses it (tests run without a tenant login: one pool).
            #expect(exposition.values("mdr_db_pool_connections_max", ["pool": "service"]).first ?? 0 >= 1)
            #expect(exposition.values("mdr_db_pool_connections_held", ["pool": "service"]).count == 1)
            #expect(exposition.values("mdr_db_pool_requests_waiting", ["pool": "service"]).count == 1)
            #expect(exposition.values("mdr_db_pool_connections_max", ["pool": "tenant"]).isEmpty)
            #expect(exposition.types["mdr_notification_delivery_latency_seconds"] == "gauge" && exposition.types["mdr_edr_action_latency_seconds"] == "gauge")
            #expect(!scraped.text.contains("acme-bv"), "no tenant ids in the metrics")
        }
    }
}
