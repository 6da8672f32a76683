import Foundation
import Logging
import MDRApplication
import MDRDomain
import MDRStore
import PostgresNIO

/// A fresh, migrated PostgreSQL database for one test, created from `MDR_TEST_DATABASE_URL` (which `ops/test` sets
/// to a throwaway cluster) and dropped afterwards. Each test gets its own database, so tests run in parallel.
public enum TestDatabase {
    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "MDR_TEST_DATABASE_URL is not set: run the tests with ./ops/test, which starts a throwaway PostgreSQL"
        }
    }

    /// A database error with what PostgresNIO keeps out of its description (the server's message, SQLSTATE and the
    /// query), so that a failing test names its cause.
    public struct DatabaseFailure: Error, CustomStringConvertible {
        public let description: String
        init(_ error: PSQLError) { description = String(reflecting: error) }
    }

    public static var baseConfiguration: DatabaseConfiguration {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["MDR_TEST_DATABASE_URL"] else { throw NotConfigured() }
            return try DatabaseConfiguration(url: url)
        }
    }

    public static let logger: Logger = {
        var logger = Logger(label: "mdr.test")
        logger.logLevel = ProcessInfo.processInfo.environment["MDR_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    /// Creates a database, migrates it, runs `body` with a running `Database`, and drops it.
    public static func withDatabase<T: Sendable>(
        migrate: Bool = true, _ body: @Sendable (Database, DatabaseConfiguration) async throws -> T
    ) async throws -> T {
        let base = try baseConfiguration
        let name = "mdr_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await admin(base) { try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger) }
        var config = base
        config.database = String(name)
        let database = Database(config, logger: logger)
        let result: Result<T, any Error>
        do {
            result = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await database.run() }
                defer { group.cancelAll() }
                do {
                    if migrate { try await Migrator(database: database).migrate() }
                    return .success(try await body(database, config))
                } catch let error as PSQLError {
                    return .failure(DatabaseFailure(error))
                } catch {
                    return .failure(error)
                }
            }
        }
        try? await admin(base) {
            try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
        return try result.get()
    }

    /// Runs `body` on a connection of its own to the admin database (`postgres`).
    static func admin(_ base: DatabaseConfiguration, _ body: (PostgresConnection) async throws -> Void) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: .init(host: base.host, port: base.port, username: base.username, password: base.password, database: base.database, tls: .disable),
            id: 1, logger: logger)
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    /// A connection of its own to a test database (two-connection tests, tampering with the log as an attacker would).
    public static func connect(_ config: DatabaseConfiguration, id: Int = 2) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: .init(host: config.host, port: config.port, username: config.username, password: config.password, database: config.database, tls: .disable),
            id: id, logger: logger)
    }
}

/// Fixtures shared by database and HTTP tests.
public enum Fixtures {
    public static let soc = Principal(id: "token:soc", name: "soc analyst", role: .soc, tenant: nil)
    public static let dynamic = Principal(id: "token:dynamic", name: "dynamic staff", role: .dynamic, tenant: nil)

    public static func onboard(_ id: String, package: ServicePackage = .compliant, at: Date = Date()) -> OnboardTenant {
        OnboardTenant(
            tenantID: TenantID(rawValue: id)!, name: "Tenant \(id)", package: package, contractStart: CalendarDate("2026-01-01")!,
            pricePerWorkstationCents: package == .veilig ? 850 : nil, primaryContact: Contact(name: "Anna de Vries", email: "anna@\(id).example"),
            afterHoursRoute: ContactRoute(channel: .phone, address: "+31 20 123 4567"),
            consent: InterventionConsent(grantedBy: "Anna de Vries", grantedOn: CalendarDate("2026-01-01")!), at: at)
    }

    /// A native signal batch as JSON.
    public static func signalBatch(_ signals: [[String: Any]]) -> Data {
        try! JSONSerialization.data(withJSONObject: ["signals": signals])
    }

    public static func signal(
        alert: String, device: String? = "ws-0042", severity: String = "high", source: String = "endpoint", status: String = "new",
        observedAt: String = "2026-11-29T10:15:30Z", users: [String] = [], ips: [String] = []
    ) -> [String: Any] {
        // Only the entities asked for: signals that share a user or an address are correlated into one incident.
        var entities: [String: Any] = ["users": users, "ips": ips]
        if let device { entities["devices"] = [device] }
        return [
            "source": source, "sourceAlertId": alert, "severity": severity, "status": status, "title": "Suspicious behaviour",
            "observedAt": observedAt, "entities": entities, "mitreTechniques": ["T1486"],
        ]
    }
}
