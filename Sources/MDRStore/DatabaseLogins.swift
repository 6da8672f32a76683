import Logging
import PostgresNIO

/// The login roles the service runs as (docs/operations.md, "Database roles"), made by the owner after migrating:
/// one for the service's own work (member of `mdr_service`: rows of every table, no ownership, no DDL) and one for
/// customers' and connectors' requests (member of `mdr_tenant_scoped`: confined to one tenant by row-level security,
/// whatever it does).
public struct DatabaseLogins: Sendable {
    /// What a login is for: the group role it is made a member of.
    public enum Purpose: String, Sendable {
        case service = "mdr_service"
        case tenantScoped = "mdr_tenant_scoped"
    }

    public struct InvalidName: Error, CustomStringConvertible {
        public var name: String
        public var description: String {
            "'\(name)' is not a role name this command makes: use lowercase letters, digits and _ (1–63, not starting with a digit or pg_)"
        }
    }

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Makes `name` a login role for `purpose` unless it exists, makes it a member of the purpose's group, and sets
    /// its password when one is given (nil leaves it as it is: loopback clusters that trust local logins need none).
    /// Returns whether the role was made now.
    @discardableResult
    public func ensure(_ name: String, for purpose: Purpose, password: String?) async throws -> Bool {
        guard Self.isPlainName(name) else { throw InvalidName(name: name) }
        let logger = database.logger
        return try await database.client.withConnection { connection in
            var exists = false
            for try await _ in try await connection.query("SELECT 1 FROM pg_roles WHERE rolname = \(name)", logger: logger) { exists = true }
            // The server quotes the name and the password (format's %I and %L) into the statement that cannot take them
            // as parameters.
            let make: PostgresQuery = exists ? "SELECT format('ALTER ROLE %I LOGIN', \(name)::text)" : "SELECT format('CREATE ROLE %I LOGIN', \(name)::text)"
            var statements = [make, "SELECT format('GRANT %I TO %I', \(purpose.rawValue)::text, \(name)::text)"]
            if let password { statements.append("SELECT format('ALTER ROLE %I PASSWORD %L', \(name)::text, \(password)::text)") }
            for statement in statements {
                var sql = ""
                for try await text in try await connection.query(statement, logger: logger).decode(String.self) { sql = text }
                try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            }
            return !exists
        }
    }

    /// A role name that needs no quoting, not one of PostgreSQL's own.
    static func isPlainName(_ name: String) -> Bool {
        guard (1...63).contains(name.utf8.count), !name.hasPrefix("pg_"), let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
        else { return false }
        return name.utf8.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }
    }
}
