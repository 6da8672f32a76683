import Foundation
import Logging
import PostgresNIO

/// Applies the numbered SQL files of `schema/` (`Sources/MDRStore/Migrations`) in order, each once, each in its
/// own transaction. Forward-only. Safe to run from several instances at once (a transaction-level advisory lock).
public struct Migrator: Sendable {
    public struct Migration: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The migrations shipped with this build, in order.
    public static func bundled() throws -> [Migration] {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationError(description: "the migrations folder is missing from the build")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        return try files.map { file in
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw MigrationError(description: "migration file \(file) must be named NNNN_name.sql")
            }
            let sql = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            return Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql)
        }
    }

    public struct MigrationError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Applies what is missing; returns the versions applied now.
    @discardableResult
    public func migrate() async throws -> [Int] {
        let migrations = try Self.bundled()
        let logger = database.logger
        // Looked up before it is created: the service's login role (which owns nothing) may not create tables, and
        // has nothing to apply when the owner ran `mdr migrate` first.
        var exists = false
        for try await found in try await database.client.query(
            "SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger
        ).decode(Bool.self) { exists = found }
        if !exists {
            try await database.client.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
        }
        var applied: [Int] = []
        for migration in migrations {
            let didApply = try await Self.explainingPrivileges(migration) {
                try await database.client.withTransaction(logger: logger) { connection -> Bool in
                    try await connection.query("SELECT pg_advisory_xact_lock(7262001)", logger: logger)
                    let rows = try await connection.query(
                        "SELECT 1 FROM schema_migrations WHERE version = \(migration.version)", logger: logger)
                    for try await _ in rows { return false }
                    for statement in SQLScript.statements(migration.sql) {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
                    return true
                }
            }
            if didApply {
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }

    /// `body`, with a refusal for lack of privilege (SQLSTATE 42501, `permission denied`) told as what to do: a
    /// migration changes the schema, which only its owner may.
    private static func explainingPrivileges<T>(_ migration: Migration, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            let cause = ((error as? PostgresTransactionError)?.closureError ?? error) as? PSQLError
            guard let error = cause, error.serverInfo?[.sqlState] == "42501" else { throw error }
            throw MigrationError(
                description: """
                    migration \(migration.version) (\(migration.name)) needs the database's owner, and this role may not change the \
                    schema (\(error.serverInfo?[.message] ?? "permission denied")): run `mdr migrate` with the owner's MDR_DATABASE_URL first
                    """)
        }
    }
}
