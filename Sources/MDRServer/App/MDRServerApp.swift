import Foundation
import Hummingbird
import Logging
import MDRApplication
import MDRProjections
import MDRResponse
import MDRStore
import MDRSyslog
import NIOCore
import OpenAPIHummingbird
import OpenAPIRuntime
import ServiceLifecycle
import UnixSignals

/// The MDR HTTP service: the API of `openapi.yaml` with its middleware, and the background work it needs.
public enum MDRServerApp {
    /// Runs the service until SIGTERM or SIGINT, then shuts down gracefully: it stops accepting requests, finishes
    /// those in flight, stops the processors, and closes the database pool last.
    ///
    /// Waits for the database (up to `configuration.startupTimeout`), applies the migrations this build ships, then
    /// starts the HTTP server and the background work (`backgroundServices`). `onServerRunning` gets the bound port once the
    /// server listens (the port chosen when `configuration.port` is 0, as `mdr demo` runs it).
    public static func run(
        _ configuration: ServerConfiguration, logger: Logger, onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) async throws {
        let deadline = ShutdownDeadline(
            limit: shutdownLimit, running: RunningServices(), onOverrun: ShutdownDeadline.exitProcess(logger: logger, limit: shutdownLimit))
        defer { deadline.disarm() }
        try await serviceGroup(
            configuration, logger: logger, gracefulShutdownSignals: [.sigterm, .sigint], shutdownDeadline: deadline, onServerRunning: onServerRunning
        ).run()
    }

    /// How long `run` lets a shutdown take, from the signal to the end of the process: the group's 10 s of graceful
    /// shutdown, its cancellation with 1 s for work to notice, and some slack. Past it the process exits (status 1).
    static let shutdownLimit: Duration = .seconds(13)

    /// The whole service as a group ready to run: the database pool, then (after the migrations) the HTTP server with
    /// its processors. `run` runs it until a signal; an embedding program (`mdr demo`) runs it and ends it with
    /// `triggerGracefulShutdown()`, which stops the server and the processors before the pool. With `shutdownDeadline`,
    /// a shutdown that overruns it is reported with the services it still waits for.
    public static func serviceGroup(
        _ configuration: ServerConfiguration, logger: Logger, gracefulShutdownSignals: [UnixSignal],
        shutdownDeadline: ShutdownDeadline? = nil,
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) throws -> ServiceGroup {
        let database = Database(configuration.database, tenantScope: configuration.tenantDatabase, logger: logger)
        var services = AppServices(database: database)
        services.admission = services.admission(configuration, logger: logger)
        if configuration.syslog != nil, configuration.role.servesAPI { services.syslog = SyslogCounters() }
        let running = shutdownDeadline?.running ?? RunningServices()
        // Each tracked by its type's name, so that a shutdown that overruns names the one that holds it up.
        let background = backgroundServices(services: services, configuration: configuration, logger: logger).map { service in
            running.track(String(describing: type(of: service)).prefix { $0 != "<" && $0 != "(" }.description, service)
        }
        let app = try buildApplication(
            services: services, configuration: configuration, logger: logger, backgroundServices: background, onServerRunning: onServerRunning)
        let startup = MigrateThenRun(database: database, timeout: configuration.startupTimeout, logger: logger, service: app)
        // Services stop in reverse order: the application (and with it the processors) before the database. A graceful
        // shutdown that takes longer than 10 s (work stuck on a database that is gone) becomes a cancellation.
        var members = [
            ServiceGroupConfiguration.ServiceConfiguration(service: running.track("database pool", database)),
            ServiceGroupConfiguration.ServiceConfiguration(service: running.track("application", startup)),
        ]
        // Last, so that it is the first told of the shutdown and its clock starts then.
        if let shutdownDeadline { members.append(.init(service: shutdownDeadline, successTerminationBehavior: .ignore)) }
        var group = ServiceGroupConfiguration(services: members, gracefulShutdownSignals: gracefulShutdownSignals, logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(10)
        return ServiceGroup(configuration: group)
    }

    /// The HTTP application over `services`, without running anything: tests drive it with HummingbirdTesting, and
    /// `run` adds the database, migrations and signal handling. `backgroundServices` run alongside the server (in
    /// `run`: the append notifier and the processors).
    public static func buildApplication(
        services: AppServices, configuration: ServerConfiguration, logger: Logger, backgroundServices: [any Service] = [],
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        var services = services
        services.commands.maxBatchSize = configuration.maxBatchSignals
        let router = Router(context: BasicRequestContext.self)
        // Outermost first: log (at debug level); render every error; then authenticate (before reading any body); then
        // refuse a malformed query string; then the token's ingest rate; then limit the body.
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: RequestMetricsMiddleware(metrics: services.metrics))
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: PageHeadersMiddleware())
        if !configuration.role.servesAPI {
            router.add(middleware: WorkersOnlyMiddleware())
        }
        router.add(
            middleware: AuthenticationMiddleware(
                tokens: services.tokens, timeout: configuration.requestTimeout, publicPaths: APIHandler.publicPaths,
                oidc: configuration.oidc.map { OIDCVerifier(configuration: $0, time: configuration.time, logger: logger) }))
        router.add(middleware: QueryStringMiddleware())
        if let limit = configuration.ingestRateLimit {
            router.add(middleware: IngestRateLimitMiddleware(limiter: IngestRateLimiter(limit)))
        }
        var backgroundServices = backgroundServices
        if let admission = services.admission(configuration, logger: logger) {
            router.add(middleware: IngestAdmissionMiddleware(admission: admission))
            backgroundServices.append(admission)
        }
        router.add(middleware: BodyLimitMiddleware(maxBytes: configuration.maxBodyBytes))
        router.add(middleware: DuplicateKeyMiddleware())
        router.add(middleware: CommandHeadersMiddleware())
        router.add(middleware: EmptyOptionalBodyMiddleware())
        // Compact JSON (the runtime pretty-prints by default); sorted keys make a replayed answer byte-identical.
        var handler = APIHandler(services: services, requestTimeout: configuration.requestTimeout, document: try APIHandler.loadDocument())
        handler.board = try APIHandler.loadBoard()
        handler.streamPollInterval = configuration.streamPollInterval
        handler.streamHeartbeat = configuration.streamHeartbeat
        // A customer's or connector's request runs confined to its tenant by row-level security (a second wall).
        router.add(middleware: TenantScopeMiddleware(database: services.database))
        router.add(middleware: SignalBatchMiddleware(handler: handler))
        try handler.registerHandlers(
            on: router, serverURL: URL(string: "/")!,
            configuration: Configuration(dateTranscoder: TimestampTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]))
        return Application(
            router: router,
            // A request the parser cannot read gets a problem too (UnparsableRequestHandler).
            server: .http1(configuration: .init(additionalChannelHandlers: [UnparsableRequestHandler()])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "mdr"),
            services: backgroundServices,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) }, logger: logger)
    }
}

/// Waits for the database, migrates it, then runs `service`. Runs beside the `Database` service, whose pool must
/// be running for any query to be answered.
struct MigrateThenRun<S: Service>: Service {
    let database: Database
    let timeout: Duration
    let logger: Logger
    let service: S

    struct DatabaseUnreachable: Error, CustomStringConvertible {
        var timeout: Duration
        var description: String { "the database did not answer within \(timeout): check MDR_DATABASE_URL and that PostgreSQL runs" }
    }

    func run() async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        // The database may still be starting (docker compose starts both at once).
        let reachable: Bool
        do {
            reachable = try await cancelWhenGracefulShutdown {
                while await !database.ping() {
                    if clock.now >= deadline { return false }
                    logger.warning("waiting for the database to answer")
                    try await Task.sleep(for: .seconds(1))
                }
                return true
            }
        } catch {
            // Asked to stop while waiting: nothing has started yet.
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            throw error
        }
        if Task.isShuttingDownGracefully { return }
        guard reachable else { throw DatabaseUnreachable(timeout: timeout) }
        let applied = try await Migrator(database: database).migrate()
        logger.info("database schema is up to date", metadata: ["migrations.applied": "\(applied)"])
        try await service.run()
    }
}
