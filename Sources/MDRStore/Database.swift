import Foundation
import Logging
import MDRDomain
import NIOCore
import PostgresNIO
import ServiceLifecycle

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
    public let logger: Logger

    public init(_ configuration: DatabaseConfiguration, logger: Logger) {
        self.pool = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        self.logger = logger
    }

    /// Where queries go: the pool, or, inside `withTenantScope`, the scope's connection.
    public var client: DatabaseClient { DatabaseClient(pool: pool) }

    public func run() async {
        await pool.run()
    }

    /// Runs `body` with every query of this task (and its child tasks) on one connection that row-level security
    /// confines to `tenant`: the role `mdr_tenant_scoped` with `mdr.tenant` set (migration 0010). The application's own
    /// checks come first; this is the second wall, for a query that a bug would send to another tenant's rows.
    ///
    /// The connection goes back to the pool with its role and setting reset; one that cannot be reset is closed.
    public func withTenantScope<T: Sendable>(_ tenant: TenantID, _ body: () async throws -> T) async throws -> T {
        if let current = TenantScope.current {
            guard current.tenant == tenant else {
                throw TenantScopeViolation(description: "a request of tenant '\(current.tenant)' asked for tenant '\(tenant)'")
            }
            return try await body()
        }
        return try await pool.withConnection { connection in
            try await connection.query(
                "SELECT set_config('role', 'mdr_tenant_scoped', false), set_config('mdr.tenant', \(tenant.rawValue), false)",
                logger: logger)
            let result: Result<T, any Error>
            do {
                result = .success(try await TenantScope.$current.withValue(TenantScope(tenant: tenant, connection: connection)) { try await body() })
            } catch {
                result = .failure(error)
            }
            do {
                // One round trip each way: `role = none` is RESET ROLE.
                try await connection.query("SELECT set_config('role', 'none', false), set_config('mdr.tenant', '', false)", logger: logger)
            } catch {
                // Never hand a connection that may still be confined (or mid-transaction) to the next user of the pool.
                try? await connection.close()
                logger.warning("closed a tenant-scoped connection that could not be reset", metadata: ["error": "\(String(reflecting: error))"])
            }
            return try result.get()
        }
    }

    /// Checks that the database answers (for `/health/ready`), within `timeout`.
    public func ping(timeout: Duration = .seconds(2)) async -> Bool {
        do {
            return try await withDeadline(timeout) {
                try await self.pool.query("SELECT 1", logger: self.logger)
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

/// Runs `work` with a deadline: PostgresNIO's pool has no lease timeout, so request-path queries bring their own.
public func withDeadline<T: Sendable>(_ timeout: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw DeadlineExceeded()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
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
struct TenantScope: Sendable {
    @TaskLocal static var current: TenantScope?

    let tenant: TenantID
    let connection: PostgresConnection
}

/// Code inside one tenant's scope asked to enter another's.
public struct TenantScopeViolation: Error, CustomStringConvertible {
    public var description: String
}

/// The pool's query methods, routed to the tenant scope's connection inside `Database.withTenantScope`.
public struct DatabaseClient: Sendable {
    let pool: PostgresClient

    @discardableResult
    public func query(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        if let scope = TenantScope.current {
            return try await scope.connection.query(query, logger: logger, file: file, line: line)
        }
        return try await pool.query(query, logger: logger, file: file, line: line)
    }

    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        if let scope = TenantScope.current {
            return try await body(scope.connection)
        }
        return try await pool.withConnection(isolation: isolation, body)
    }

    public func withTransaction<Result>(
        logger: Logger, file: String = #file, line: Int = #line, isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        if let scope = TenantScope.current {
            return try await scope.connection.withTransaction(logger: logger, file: file, line: line, isolation: isolation, body)
        }
        return try await pool.withTransaction(logger: logger, file: file, line: line, isolation: isolation, body)
    }
}
