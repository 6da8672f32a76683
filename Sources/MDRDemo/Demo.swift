import Foundation
import Logging
import MDRDomain
import MDRNotify
import MDRResponse
import MDRServer
import MDRStore
import ServiceLifecycle

/// `mdr demo`: the whole service in one minute.
///
/// Runs the real service in-process (`MDRServerApp.run`: the HTTP API, the correlator, the projections, the SLA clock,
/// the notifier with its delivery workers, and the responder) on an ephemeral loopback port, against the database
/// given. Beside it run two loopback stand-ins for what lies outside the service: a `WebhookReceiver` for Dynamic's
/// and the customer's webhook endpoints, and a `DefenderSimulator` for the tenant's Defender for Endpoint. A
/// scripted scenario then onboards a new tenant and replays an attack through the public API with tokens of each
/// role, and narrates what the service did. Everything it creates stays in the database, under a new tenant
/// `demo-<unix seconds>`.
public enum Demo {
    /// How the demo runs.
    public struct Options: Sendable {
        /// Where the HTML report is written (created when missing).
        public var outputDirectory: String
        /// Read for `MDR_SMTP_*` (a real e-mail server for the customer's primary contact) and `MDR_PUBLIC_URL`;
        /// Dynamic's route is always the demo's receiver.
        public var environment: [String: String]
        /// The longest the demo waits for any one thing the service does in the background.
        public var waitLimit: Duration

        public init(
            outputDirectory: String = ".mdr/demo", environment: [String: String] = ProcessInfo.processInfo.environment,
            waitLimit: Duration = .seconds(30)
        ) {
            self.outputDirectory = outputDirectory
            self.environment = environment
            self.waitLimit = waitLimit
        }
    }

    /// Runs the demo against `database` (migrated by the service at start) and writes its narrative, one line per
    /// call, to `output`. Throws a `DemoError` saying what did not happen in time, or a configuration error.
    public static func run(
        database: DatabaseConfiguration, logger: Logger, options: Options = Options(), output: @escaping @Sendable (String) -> Void
    ) async throws -> DemoSummary {
        let receiver = WebhookReceiver()
        let defender = DefenderSimulator(
            tenantID: UUID().uuidString.lowercased(), clientID: "mdr-demo-app", clientSecret: Self.randomSecret().encoded)
        return try await receiver.run { receiverPort in
            try await defender.run { defenderPort in
                let dynamicSecret = Self.randomSecret()
                receiver.expect(path: "/dynamic", secrets: [dynamicSecret])
                var settings: NotificationSettings
                do {
                    // Links point where `./ops/run` serves the same database afterwards, unless MDR_PUBLIC_URL says otherwise.
                    settings = try NotificationSettings.fromEnvironment(options.environment, defaultLinkBase: "http://127.0.0.1:8080")
                } catch let error as NotificationSettings.Invalid {
                    throw DemoError(error.description)
                }
                settings.dynamicRoutes = [ContactRoute(channel: .webhook, address: "http://127.0.0.1:\(receiverPort)/dynamic")]
                settings.dynamicWebhookSecrets = [dynamicSecret.encoded]
                // A receiver on loopback answers at once; a failure should not keep the demo waiting for minutes.
                settings.retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(200), maxDelay: .seconds(1))
                settings.webhookTimeout = .seconds(5)

                var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, database: database, pollInterval: .milliseconds(100))
                configuration.notifications = settings
                configuration.ingestRateLimit = nil
                configuration.startupTimeout = .seconds(15)
                configuration.responder = Responder.Configuration(
                    pollInterval: .milliseconds(100), statusInterval: .milliseconds(200), actionTimeout: .seconds(60),
                    initialBackoff: .milliseconds(500), maximumBackoff: .seconds(2))

                let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
                let service = try MDRServerApp.serviceGroup(configuration, logger: logger, gracefulShutdownSignals: []) { port in
                    portContinuation.yield(port)
                    portContinuation.finish()
                }
                let serviceTask = Task {
                    defer { portContinuation.finish() }
                    try await service.run()
                }
                // The demo's own pool, for what an operator does with the CLI: tokens, the EDR app, webhook secrets.
                var ownConfiguration = database
                ownConfiguration.maximumConnections = 2
                let store = Database(ownConfiguration, logger: logger)
                let storeTask = Task { await store.run() }
                // Ends both gracefully: requests in flight finish, the processors stop, the service's pool closes last.
                func stop() async {
                    await service.triggerGracefulShutdown()
                    _ = await serviceTask.result
                    storeTask.cancel()
                    await storeTask.value
                }
                var iterator = ports.makeAsyncIterator()
                guard let port = await iterator.next() else {
                    let failure = await serviceTask.result
                    await stop()
                    if case .failure(let error) = failure { throw error }
                    throw DemoError("the service stopped before it listened")
                }
                let run = DemoRun(
                    api: DemoAPIClient(base: "http://127.0.0.1:\(port)"), database: store, receiver: receiver, receiverPort: receiverPort,
                    defender: defender, defenderPort: defenderPort, options: options, output: output)
                output(
                    "MDR demo: the service runs in-process on http://127.0.0.1:\(port) "
                        + "(database \(database.host):\(database.port)/\(database.database))")
                output(
                    "  beside it: a webhook receiver for Dynamic and the customer on :\(receiverPort), "
                        + "a Defender for Endpoint simulator on :\(defenderPort)")
                do {
                    let summary = try await run.run()
                    await stop()
                    return summary
                } catch {
                    await stop()
                    throw error
                }
            }
        }
    }

    /// A new `whsec_` secret of 24 random bytes.
    static func randomSecret() -> WebhookSecret {
        var generator = SystemRandomNumberGenerator()
        return WebhookSecret(bytes: (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) })!
    }
}
