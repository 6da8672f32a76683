import Foundation
import Logging
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
    public let client: PostgresClient
    public let logger: Logger

    public init(_ configuration: DatabaseConfiguration, logger: Logger) {
        self.client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        self.logger = logger
    }

    public func run() async {
        await client.run()
    }

    /// Checks that the database answers (for `/health/ready`), within `timeout`.
    public func ping(timeout: Duration = .seconds(2)) async -> Bool {
        do {
            return try await withDeadline(timeout) {
                try await self.client.query("SELECT 1", logger: self.logger)
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
