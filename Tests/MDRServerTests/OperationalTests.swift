import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import MDRApplication
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// Health checks, the OpenAPI document, the event log endpoint, and the answers when the database is away.
@Suite struct OperationalTests {
    @Test func healthChecksAnswerOK() async throws {
        try await APIWorld.run { api in
            let live = try await api.get("/health/live", token: nil)
            #expect(live.status == .ok)
            #expect(live.json["status"] as? String == "ok")
            let ready = try await api.get("/health/ready", token: nil)
            #expect(ready.status == .ok)
            #expect(ready.json["status"] as? String == "ok")
            // Compact JSON: no pretty printing on the wire.
            #expect(!String(decoding: ready.body, as: UTF8.self).contains("\n"))
        }
    }

    @Test func theOpenAPIDocumentIsServed() async throws {
        try await APIWorld.run { api in
            let reply = try await api.get("/openapi.yaml", token: nil)
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType]?.hasPrefix("application/yaml") == true)
            let text = String(decoding: reply.body, as: UTF8.self)
            #expect(text.hasPrefix("openapi: 3.1.0"))
            for operation in ["onboardTenant", "ingestSignals", "confirmIncident", "isolateDevice", "listEvents"] {
                #expect(text.contains("operationId: \(operation)"))
            }
        }
    }

    @Test func eventLogIsPagedByPosition() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let signals = (1...6).map { Fixtures.signal(alert: "a-\($0)", device: nil) }
            let status = try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": signals]).status
            #expect(status == .ok)
            let soc = try await api.token(.soc)

            var after = 0
            var positions: [Int] = []
            var pages = 0
            while true {
                let page = try await api.get("/v1/tenants/acme-bv/events?after=\(after)&limit=3", token: soc)
                #expect(page.status == .ok, "\(page.text)")
                #expect(page.json["head"] as? Int == 7)
                let events = page.json["events"] as? [[String: Any]] ?? []
                if events.isEmpty {
                    #expect(page.json["nextAfter"] as? Int == after)
                    break
                }
                positions += events.compactMap { $0["position"] as? Int }
                after = try #require(page.json["nextAfter"] as? Int)
                pages += 1
            }
            #expect(positions == Array(1...7))
            #expect(pages == 3)

            let first = try await api.get("/v1/tenants/acme-bv/events?limit=1", token: soc)
            let event = try #require((first.json["events"] as? [[String: Any]])?.first)
            #expect(event["type"] as? String == "TenantOnboarded")
            #expect(event["stream"] as? String == "tenant")
            #expect(event["version"] as? Int == 1)
            #expect(event["schemaVersion"] as? Int == 1)
            #expect((event["data"] as? [String: Any])?["tenant"] != nil)
            #expect((event["metadata"] as? [String: Any])?["role"] as? String == "dynamic")
            #expect((event["hash"] as? String)?.count == 64)
            #expect((event["recordedAt"] as? String)?.hasSuffix("Z") == true)

            expectProblem(try await api.get("/v1/tenants/acme-bv/events?limit=0", token: soc), .badRequest, "bad_request")
            expectProblem(try await api.get("/v1/tenants/acme-bv/events?limit=1001", token: soc), .badRequest, "bad_request")
            expectProblem(try await api.get("/v1/tenants/acme-bv/events?after=-1", token: soc), .badRequest, "bad_request")
            expectProblem(try await api.get("/v1/tenants/acme-bv/events?limit=many", token: soc), .badRequest, "bad_request")
        }
    }

    @Test func deviceIdsArePercentDecodedFromThePath() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let reply = try await api.get("/v1/tenants/acme-bv/devices/WS%20Anna%2042", token: try await api.token(.soc))
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.json["deviceId"] as? String == "WS Anna 42")
            #expect(reply.json["state"] as? String == "none")
            #expect((reply.json["history"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func tenantAnswerCarriesTheContract() async throws {
        try await APIWorld.run { api in
            let reply = try await api.onboard("acme-bv", APIWorld.onboarding("acme-bv", package: "veilig"))
            #expect(reply.json["sla"] as? String == "B")
            #expect(reply.json["mdrStatus"] as? String == "add_on")
            #expect(reply.json["pricePerWorkstationCents"] as? Int == 850)
            #expect(reply.json["contractStart"] as? String == "2026-01-01")
            #expect((reply.json["consent"] as? [String: Any])?["grantedOn"] as? String == "2026-01-01")
            #expect(reply.json["nis2InScope"] as? Bool == true)
            let onboardedAt = try #require(reply.json["onboardedAt"] as? String)
            #expect(Timestamp.parse(onboardedAt) != nil && onboardedAt.hasSuffix("Z"))
        }
    }

    /// With no database answering, readiness says so and requests get 503 `unavailable` without internal text.
    @Test func databaseDownAnswers503Unavailable() async throws {
        let config = DatabaseConfiguration(host: "127.0.0.1", port: 9, username: "postgres", database: "nowhere")
        // The pool is never run: every query waits, as it would for a database that does not answer.
        let database = Database(config, logger: TestDatabase.logger)
        let services = AppServices(database: database)
        var configuration = ServerConfiguration(database: config)
        configuration.requestTimeout = .milliseconds(300)
        let app = try MDRServerApp.buildApplication(services: services, configuration: configuration, logger: TestDatabase.logger)
        try await app.test(.router) { client in
            let api = APIWorld(services: services, client: client)
            let ready = try await api.get("/health/ready", token: nil)
            expectProblem(ready, .serviceUnavailable, "unavailable")
            let status = try await api.get("/health/live", token: nil).status
            #expect(status == .ok)
            let read = try await api.get("/v1/tenants/acme-bv", token: "mdr_" + String(repeating: "x", count: 43))
            expectProblem(read, .serviceUnavailable, "unavailable")
            #expect(!read.text.contains("Deadline"))
        }
    }

    /// Readiness watches the instance's background loops: a loop that has not completed a round for 120 s (a round stuck
    /// on a closed connection, a database that refuses every round) takes the instance out, named in the answer and in
    /// `/metrics`; its next completed round brings it back.
    @Test func readinessFailsWhileABackgroundLoopHasNotCompletedARound() async throws {
        try await APIWorld.run(background: { services in
            // The database is the services' own; the configuration only sets intervals and which loops run.
            let unused = DatabaseConfiguration(host: "127.0.0.1", username: "unused", database: "unused")
            return MDRServerApp.backgroundServices(services: services, configuration: ServerConfiguration(database: unused), logger: TestDatabase.logger)
        }) { api in
            // The real loops beat: each shows up with a completed round.
            try await waitUntil { Set(api.services.workers.all.filter(\.completedOnce).map(\.worker)).isSuperset(of: ["pipeline", "SLA clock", "responder"]) }
            #expect(try await api.get("/health/ready", token: nil).status == .ok)

            let workers = api.services.workers
            workers.started("stuck loop", at: .now - .seconds(121))
            workers.failedRound("stuck loop")
            let ready = try await api.get("/health/ready", token: nil)
            expectProblem(ready, .serviceUnavailable, "worker_stalled")
            #expect((ready.json["detail"] as? String)?.contains("stuck loop (1 failed round(s) in a row)") == true, "\(ready.text)")
            #expect((ready.json["detail"] as? String)?.contains("pipeline") == false, "\(ready.text)")
            let metrics = try await api.get("/metrics", token: try await api.token(.soc)).text
            #expect(metrics.contains(#"mdr_worker_failed_rounds{worker="stuck loop"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"mdr_worker_seconds_since_round{worker="pipeline"}"#))

            workers.completedRound("stuck loop")
            #expect(try await api.get("/health/ready", token: nil).status == .ok)
        }
    }
}
