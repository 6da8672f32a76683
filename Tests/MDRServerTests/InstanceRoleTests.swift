import Foundation
import HTTPTypes
import HummingbirdTesting
import MDRApplication
import MDRDomain
import MDRNotify
import MDRResponse
import MDRServer
import MDRStore
import MDRSyslog
import MDRTestSupport
import ServiceLifecycle
import Testing

/// `mdr serve --role api|workers|all`: the API apart from the background work, so that each scales on its own.
@Suite struct InstanceRoleTests {
    static func configuration(_ role: InstanceRole) -> ServerConfiguration {
        var configuration = ServerConfiguration(database: DatabaseConfiguration(host: "127.0.0.1", username: "unused", database: "unused"))
        configuration.role = role
        configuration.syslog = SyslogListenerConfiguration(host: "127.0.0.1", port: 0)
        configuration.notifications = NotificationSettings(linkBase: "https://mdr.example")
        return configuration
    }

    /// What each role runs beside its HTTP server.
    @Test func eachRoleRunsItsPartOfTheBackgroundWork() throws {
        let database = Database(DatabaseConfiguration(host: "127.0.0.1", username: "unused", database: "unused"), logger: TestDatabase.logger)
        let services = AppServices(database: database)
        func kinds(_ role: InstanceRole) -> [String] {
            MDRServerApp.backgroundServices(services: services, configuration: Self.configuration(role), logger: TestDatabase.logger).map {
                String(describing: type(of: $0))
            }
        }
        let workers = ["TenantPipeline", "SlaClock", "Responder", "GraphAlertPoller", "NotificationDeliveryService"]
        #expect(kinds(.api) == ["AppendNotifier", "SyslogListener"])
        #expect(kinds(.workers) == ["AppendNotifier"] + workers)
        #expect(kinds(.all) == ["AppendNotifier"] + workers + ["SyslogListener"])
    }

    /// A workers instance answers its health, its metrics and the document, and sends everything else to the API.
    @Test func aWorkersInstanceServesHealthAndMetricsOnly() async throws {
        try await APIWorld.run(configure: { $0.role = .workers }) { api in
            let soc = try await api.token(.soc)
            #expect(try await api.get("/health/live", token: nil).status == .ok)
            #expect(try await api.get("/health/ready", token: nil).status == .ok)
            #expect(try await api.get("/openapi.yaml", token: nil).status == .ok)
            #expect(try await api.get("/metrics", token: soc).status == .ok)
            // Still no metrics without a token.
            expectProblem(try await api.get("/metrics", token: nil), .unauthorized, "unauthenticated")
            for uri in ["/v1/incidents", "/v1/tenants/acme-bv/signals"] {
                let reply = try await api.get(uri, token: soc)
                expectProblem(reply, .notFound, "not_found")
                #expect((reply.json["detail"] as? String)?.contains("MDR_ROLE=workers") == true, "\(reply.text)")
            }
            expectProblem(try await api.post("/v1/tenants", token: try await api.token(.dynamic), APIWorld.onboarding("acme-bv")), .notFound, "not_found")
            try await api.expectHead("acme-bv", 0)
        }
    }

    /// An API instance serves the API; with no background loop of its own, readiness watches only the database.
    @Test func anAPIInstanceServesTheAPI() async throws {
        try await APIWorld.run(configure: { $0.role = .api }) { api in
            try await api.onboard("acme-bv")
            #expect(try await api.get("/v1/tenants/acme-bv", token: try await api.token(.soc)).status == .ok)
            #expect(try await api.get("/health/ready", token: nil).status == .ok)
            #expect(api.services.workers.all.isEmpty)
        }
    }

    /// The layout of docs/operations.md in small: an `api` instance takes a signal, a `workers` instance (its own pool,
    /// its own process's worth of services) correlates it and builds the views, and the `api` instance then answers the
    /// incident from them. Neither does the other's part: without the workers nothing is correlated.
    @Test func anAPIInstanceAndAWorkersInstanceTogetherTurnASignalIntoAnIncident() async throws {
        try await TestDatabase.withDatabase { database, config in
            var apiConfiguration = ServerConfiguration(database: config)
            apiConfiguration.role = .api
            let services = AppServices(database: database)
            let app = try MDRServerApp.buildApplication(
                services: services, configuration: apiConfiguration, logger: TestDatabase.logger,
                backgroundServices: MDRServerApp.backgroundServices(services: services, configuration: apiConfiguration, logger: TestDatabase.logger))
            try await app.test(.router) { client in
                let api = APIWorld(services: services, client: client)
                let soc = try await api.token(.soc)
                try await api.onboard("acme-bv")
                let connector = try await api.token(.connector, "acme-bv")
                let ingested = try await api.post(
                    "/v1/tenants/acme-bv/signals", token: connector, ["signals": [Fixtures.signal(alert: "da-0001", device: "ws-0042")]])
                #expect(ingested.status == .ok, "\(ingested.text)")
                func incidents() async throws -> [[String: Any]] {
                    try await api.get("/v1/tenants/acme-bv/incidents", token: soc).json["incidents"] as? [[String: Any]] ?? []
                }
                // The api instance alone correlates nothing (its pipeline would have done so within a round).
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await incidents().isEmpty)

                var workersConfiguration = ServerConfiguration(database: config, pollInterval: .milliseconds(100))
                workersConfiguration.role = .workers
                let pool = Database(config, logger: TestDatabase.logger)
                let workers = MDRServerApp.backgroundServices(
                    services: AppServices(database: pool), configuration: workersConfiguration, logger: TestDatabase.logger)
                let group = ServiceGroup(configuration: .init(services: [pool] + workers, logger: TestDatabase.logger))
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    try await waitUntil("the workers instance opened the incident and the api instance lists it") {
                        try await incidents().count == 1
                    }
                    let incident = try #require(try await incidents().first)
                    #expect(incident["devices"] as? [String] == ["ws-0042"])
                    #expect(incident["status"] as? String == "open")
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                }
            }
        }
    }

    /// A role that does not exist is refused at start, from the flag and from the environment, before anything runs.
    @Test func anUnknownRoleIsRefusedAtStart() throws {
        let flag = try CommandLineRunner.mdr(["serve", "--role", "worker", "--database-url", "postgres://nobody@127.0.0.1:9/none"])
        #expect(flag.status != 0)
        #expect(flag.output.contains("the role must be all, api or workers"), "\(flag.output)")
        let env = try CommandLineRunner.mdr(["serve", "--database-url", "postgres://nobody@127.0.0.1:9/none"], environment: ["MDR_ROLE": "API"])
        #expect(env.status != 0)
        #expect(env.output.contains("not 'API'"), "\(env.output)")
    }
}
