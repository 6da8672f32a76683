import Foundation
import Logging
import MDRDomain
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Where the database is: parsed from a `postgres://user:password@host:port/database` URL (`MDR_DATABASE_URL`).
public struct DatabaseConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// `sslmode=require` in the URL; loopback and private networks usually use `disable` (the default).
    public var requireTLS: Bool
    /// The size of the connection pool of one service instance.
    public var maximumConnections: Int

    public init(
        host: String, port: Int = 5432, username: String, password: String? = nil, database: String, requireTLS: Bool = false,
        maximumConnections: Int = 20
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.requireTLS = requireTLS
        self.maximumConnections = maximumConnections
    }

    public struct InvalidURL: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses `postgres://` or `postgresql://` URLs. Query options: `sslmode=disable|prefer|require`, `pool=N`.
    public init(url string: String) throws {
        guard let components = URLComponents(string: string), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql", let host = components.host, !host.isEmpty
        else {
            throw InvalidURL(description: "database URL must look like postgres://user:password@host:5432/database")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw InvalidURL(description: "database URL names no database (…/database at its end)") }
        let options = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        self.init(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password?.removingPercentEncoding, database: database,
            requireTLS: options["sslmode"] == "require", maximumConnections: Int(options["pool"] ?? "") ?? 20)
    }

    var clientConfiguration: PostgresClient.Configuration {
        var config = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: requireTLS ? .require(.makeClientConfiguration()) : .disable)
        config.options.maximumConnections = maximumConnections
        config.options.additionalStartupParameters = [
            ("application_name", "mdr"),
            // No long transactions on the write path: a stuck client must not hold a tenant's head row.
            ("idle_in_transaction_session_timeout", "30000"),
            ("TimeZone", "UTC"),
        ]
        return config
    }
}

/// The PostgreSQL connection pool of one service instance. Run it as a `Service`; every query waits until it runs.
public final class Database: Service, Sendable {
    /// The pool itself. Code that queries goes through `client`, so that a tenant scope applies to it.
    public let pool: PostgresClient
    /// The pool of tenant scopes, logged in as a role confined to one tenant by itself (`MDR_TENANT_DATABASE_URL`),
    /// or nil: then tenant scopes take the service's own connections and switch their role.
    let tenantPool: PostgresClient?
    public let logger: Logger
    /// How the pools are used right now (`/metrics`).
    public let usage: PoolUsage
    public let tenantUsage: PoolUsage?

    /// A pool for `configuration`; with `tenantScope`, tenant scopes take their connections from a second pool logged
    /// in as that login role, a member of `mdr_tenant_scoped` and of nothing more (docs/operations.md, "Database
    /// roles"): a `RESET ROLE` there leads back to a role that row-level security still confines, where on the
    /// service's own connections it leads to the service's role.
    /// `poolLogger` is what the pools themselves log to (connections made and lost), `logger` when not given.
    public init(_ configuration: DatabaseConfiguration, tenantScope: DatabaseConfiguration? = nil, logger: Logger, poolLogger: Logger? = nil) {
        self.pool = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: poolLogger ?? logger)
        self.tenantPool = tenantScope.map { PostgresClient(configuration: $0.clientConfiguration, backgroundLogger: poolLogger ?? logger) }
        self.logger = logger
        self.usage = PoolUsage(maximum: configuration.maximumConnections)
        self.tenantUsage = tenantScope.map { PoolUsage(maximum: $0.maximumConnections) }
    }

    /// Where queries go: the pool, or, inside `withTenantScope`, the scope's connection.
    public var client: DatabaseClient { DatabaseClient(pool: pool, usage: usage) }

    public func run() async {
        guard let tenantPool else {
            // Directly: the pool counts as running from this call on (a query before it is logged as a warning).
            await pool.run()
            return
        }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.pool.run() }
            group.addTask { await tenantPool.run() }
        }
    }

    /// Runs `body` with every query of this task (and its child tasks) on one connection that row-level security
    /// confines to `tenant`: the role `mdr_tenant_scoped` with `mdr.tenant` set (migration 0010). The application's own
    /// checks come first; this is the second wall, for a query that a bug would send to another tenant's rows.
    ///
    /// The connection is taken from the pool only when the first query is made (`body` may parse and validate a request
    /// first, holding no connection) and goes back to the pool when `body` ends, with its role and setting reset; one
    /// that cannot be reset is closed.
    public func withTenantScope<T: Sendable>(_ tenant: TenantID, _ body: () async throws -> T) async throws -> T {
        if let current = TenantScope.current {
            guard current.tenant == tenant else {
                throw TenantScopeViolation(description: "a request of tenant '\(current.tenant)' asked for tenant '\(tenant)'")
            }
            return try await body()
        }
        let scope = TenantScope(tenant: tenant, pool: tenantPool ?? pool, usage: tenantUsage ?? usage, logger: logger)
        let result: Result<T, any Error>
        do {
            result = .success(try await TenantScope.$current.withValue(scope) { try await body() })
        } catch {
            result = .failure(error)
        }
        await scope.end()
        return try result.get()
    }

    /// Checks that the database answers (for `/health/ready`), within `timeout`: on both logins when tenant scopes
    /// have their own.
    public func ping(timeout: Duration = .seconds(2)) async -> Bool {
        do {
            return try await withDeadline(timeout) {
                try await self.pool.query("SELECT 1", logger: self.logger)
                try await self.tenantPool?.query("SELECT 1", logger: self.logger)
                return true
            }
        } catch {
            return false
        }
    }
}

/// The deadline ran out before the work finished.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public var description: String { "the database did not answer in time" }
}

/// Runs `work` with a deadline: PostgresNIO's pool has no lease timeout, so request-path queries and background rounds
/// bring their own.
///
/// At the deadline the caller gets `DeadlineExceeded` at once and `work` is cancelled — but not waited for: a query on
/// a connection the server has closed can stay unanswered for ever in PostgresNIO 1.33 (it does not honour
/// cancellation there; see docs/decisions.md, "A closed connection can hang a query"), and a structured task group
/// would wait for it. `onTimeout` runs first (to log, or to close the connection the work is stuck on). When the
/// caller is cancelled (a stopping service), `work` is cancelled and waited for up to `cancellationGrace` (1 s), then
/// abandoned with `CancellationError`: work that honours cancellation ends with no round left behind, and work stuck
/// on a database that is gone (a query waiting for a connection that never comes) cannot hold a shutdown up.
public func withDeadline<T: Sendable>(
    _ timeout: Duration, cancellationGrace: Duration = .seconds(1), onTimeout: @escaping @Sendable () async -> Void = {},
    _ work: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = DeadlineOutcome<T>()
    let worker = Task { outcome.finish(await Result { try await work() }) }
    let timer = Task {
        try? await Task.sleep(for: timeout)
        guard !Task.isCancelled, outcome.finish(.failure(DeadlineExceeded())) else { return }
        await onTimeout()
        worker.cancel()
    }
    let grace = Mutex<Task<Void, Never>?>(nil)
    let result = await withTaskCancellationHandler {
        await outcome.value()
    } onCancel: {
        worker.cancel()
        grace.withLock {
            $0 = Task {
                try? await Task.sleep(for: cancellationGrace)
                guard !Task.isCancelled else { return }
                outcome.finish(.failure(CancellationError()))
            }
        }
    }
    timer.cancel()
    grace.withLock { $0?.cancel() }
    return try result.get()
}

/// The first of a work's result, its deadline and its caller's cancellation.
final class DeadlineOutcome<T: Sendable>: Sendable {
    private let state = Mutex<(result: Result<T, any Error>?, waiter: CheckedContinuation<Result<T, any Error>, Never>?)>((nil, nil))

    /// Records `result` unless another was recorded first; returns whether it was the first.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (first, waiter) = state.withLock { s -> (Bool, CheckedContinuation<Result<T, any Error>, Never>?) in
            guard s.result == nil else { return (false, nil) }
            s.result = result
            defer { s.waiter = nil }
            return (true, s.waiter)
        }
        waiter?.resume(returning: result)
        return first
    }

    func value() async -> Result<T, any Error> {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Result<T, any Error>? in
                if let result = s.result { return result }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

extension Result where Failure == any Error {
    fileprivate init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// A pooled connection the server had already closed when it was handed out: the work is not tried on it (a query on
/// it may never be answered), and the caller retries on another.
public struct ConnectionLost: Error, CustomStringConvertible {
    public var description: String { "the pool handed out a connection the server had closed; try again" }
}

/// The server's error fields, found inside PostgresNIO's wrappers (`PostgresTransactionError`).
struct ServerError {
    var sqlState: String
    var constraint: String?
    var message: String
    var detail: String?

    init?(_ error: any Error) {
        switch error {
        case let e as PSQLError:
            guard let info = e.serverInfo, let state = info[.sqlState] else { return nil }
            sqlState = state
            constraint = info[.constraintName]
            message = info[.message] ?? ""
            detail = info[.detail]
        case let e as PostgresTransactionError:
            guard let inner = e.closureError ?? e.commitError ?? e.beginError, let found = ServerError(inner) else { return nil }
            self = found
        default:
            return nil
        }
    }
}

/// The connection of a tenant-scoped request, for the queries made while it runs.
/// A tenant-scoped request's connection, taken from the pool at the first query and held by a task of its own until
/// the scope ends (a pool connection is lent to a closure; the scope's queries come from anywhere inside it).
final class TenantScope: Sendable {
    @TaskLocal static var current: TenantScope?

    let tenant: TenantID
    let pool: PostgresClient
    let usage: PoolUsage
    let logger: Logger

    private enum Phase {
        case idle
        case acquiring(waiters: [CheckedContinuation<PostgresConnection, any Error>])
        case holding(PostgresConnection)
        case failed(any Error)
        case ended
    }

    private let phase = Mutex(Phase.idle)
    /// Resumed by `end()`: the holder resets the connection and gives it back.
    private let release = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let released = Mutex(false)
    private let holder = Mutex<Task<Void, Never>?>(nil)

    /// How long resetting (or closing) the scope's connection may take.
    static let resetTimeout: Duration = .seconds(5)

    init(tenant: TenantID, pool: PostgresClient, usage: PoolUsage, logger: Logger) {
        self.tenant = tenant
        self.pool = pool
        self.usage = usage
        self.logger = logger
    }

    /// The scope's connection, confined to its tenant: taken (and confined) on first use.
    func connection() async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<PostgresConnection, any Error>) in
            let start: Bool = phase.withLock { phase in
                switch phase {
                case .idle:
                    phase = .acquiring(waiters: [waiter])
                    return true
                case .acquiring(var waiters):
                    waiters.append(waiter)
                    phase = .acquiring(waiters: waiters)
                case .holding(let connection):
                    waiter.resume(returning: connection)
                case .failed(let error):
                    waiter.resume(throwing: error)
                case .ended:
                    waiter.resume(throwing: TenantScopeViolation(description: "the tenant scope of '\(tenant)' has ended"))
                }
                return false
            }
            if start { holder.withLock { $0 = Task { await self.hold() } } }
        }
    }

    /// Takes a connection, confines it, lends it to the scope until `end()`, then resets it (or closes it).
    private func hold() async {
        do {
            try await usage.leasing(pool) { connection in
                guard !connection.isClosed else { throw ConnectionLost() }
                try await connection.query(
                    "SELECT set_config('role', 'mdr_tenant_scoped', false), set_config('mdr.tenant', \(tenant.rawValue), false)",
                    logger: logger)
                let waiters = phase.withLock { phase -> [CheckedContinuation<PostgresConnection, any Error>] in
                    guard case .acquiring(let waiters) = phase else { return [] }
                    phase = .holding(connection)
                    return waiters
                }
                for waiter in waiters { waiter.resume(returning: connection) }
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = released.withLock { done -> Bool in
                        if done { return true }
                        release.withLock { $0 = continuation }
                        return false
                    }
                    if now { continuation.resume() }
                }
                // A connection the server closed has nothing to reset (the pool replaces it), and a query on it can
                // wait for ever (docs/decisions.md, "A closed connection can hang a query"): the request, and with it
                // a shutdown, would wait too. So: no reset on a closed connection, and every step bounded.
                guard !connection.isClosed else { return }
                do {
                    // One round trip: `role = none` is RESET ROLE.
                    let logger = self.logger
                    try await withDeadline(Self.resetTimeout) {
                        try await connection.query("SELECT set_config('role', 'none', false), set_config('mdr.tenant', '', false)", logger: logger)
                    }
                } catch {
                    // Never hand a connection that may still be confined (or mid-transaction) to the next user of the pool.
                    try? await withDeadline(Self.resetTimeout) { try await connection.close() }
                    logger.warning("closed a tenant-scoped connection that could not be reset", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
        } catch {
            let waiters = phase.withLock { phase -> [CheckedContinuation<PostgresConnection, any Error>] in
                guard case .acquiring(let waiters) = phase else { return [] }
                phase = .failed(error)
                return waiters
            }
            for waiter in waiters { waiter.resume(throwing: error) }
        }
    }

    /// Whether the scope has taken its connection (tests).
    var holdsConnection: Bool {
        phase.withLock { if case .holding = $0 { true } else { false } }
    }

    /// Ends the scope: its connection, if one was taken, is reset and goes back to the pool before this returns.
    func end() async {
        phase.withLock { phase in
            if case .holding = phase { return }
            if case .acquiring = phase { return }
            phase = .ended
        }
        let continuation = released.withLock { done -> CheckedContinuation<Void, Never>? in
            done = true
            return release.withLock { c in defer { c = nil }; return c }
        }
        continuation?.resume()
        await holder.withLock { $0 }?.value
        phase.withLock { $0 = .ended }
    }
}

/// Code inside one tenant's scope asked to enter another's.
public struct TenantScopeViolation: Error, CustomStringConvertible {
    public var description: String
}

/// The pool's query methods, routed to the tenant scope's connection inside `Database.withTenantScope`.
public struct DatabaseClient: Sendable {
    let pool: PostgresClient
    let usage: PoolUsage

    @discardableResult
    public func query(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        if let scope = TenantScope.current {
            return try await scope.connection().query(query, logger: logger, file: file, line: line)
        }
        return try await usage.waiting { try await pool.query(query, logger: logger, file: file, line: line) }
    }

    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        if let scope = TenantScope.current {
            return try await body(try await scope.connection())
        }
        return try await usage.leasing(pool, isolation: isolation) { connection in
            guard !connection.isClosed else { throw ConnectionLost() }
            return try await body(connection)
        }
    }

    public func withTransaction<Result>(
        logger: Logger, file: String = #file, line: Int = #line, isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        if let scope = TenantScope.current {
            return try await scope.connection().withTransaction(logger: logger, file: file, line: line, isolation: isolation, body)
        }
        return try await usage.leasing(pool, isolation: isolation) { connection in
            guard !connection.isClosed else { throw ConnectionLost() }
            return try await connection.withTransaction(logger: logger, file: file, line: line, isolation: isolation, body)
        }
    }
}

/// How one pool is used right now, as this instance sees it (PostgresNIO's pool reports nothing of it): tasks waiting
/// for a connection, and connections held by a task (a transaction, a round, a tenant scope, the LISTEN connection).
/// A single query through the pool counts as waiting until its first answer, and is not counted as held.
public final class PoolUsage: Sendable {
    /// The pool's size.
    public let maximum: Int
    private let waitingCount = Atomic<Int>(0)
    private let heldCount = Atomic<Int>(0)

    public init(maximum: Int) {
        self.maximum = maximum
    }

    public var waiting: Int { waitingCount.load(ordering: .relaxed) }
    public var held: Int { heldCount.load(ordering: .relaxed) }

    /// `body` on a connection of `pool`, counted as waiting until it has one, then as held.
    func leasing<Result>(
        _ pool: PostgresClient, isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        let waited = Atomic<Bool>(false)
        waitingCount.add(1, ordering: .relaxed)
        defer { if !waited.load(ordering: .relaxed) { waitingCount.subtract(1, ordering: .relaxed) } }
        return try await pool.withConnection(isolation: isolation) { connection in
            waited.store(true, ordering: .relaxed)
            waitingCount.subtract(1, ordering: .relaxed)
            heldCount.add(1, ordering: .relaxed)
            defer { heldCount.subtract(1, ordering: .relaxed) }
            return try await body(connection)
        }
    }

    /// `body` (a single query through the pool), counted as waiting until it returns.
    func waiting<T>(_ body: () async throws -> T) async throws -> T {
        waitingCount.add(1, ordering: .relaxed)
        defer { waitingCount.subtract(1, ordering: .relaxed) }
        return try await body()
    }
}
