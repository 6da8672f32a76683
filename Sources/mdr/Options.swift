import ArgumentParser
import Foundation
import Logging
import MDRDomain
import MDRStore

/// Where the database is: `--database-url`, else `MDR_DATABASE_URL`.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL, e.g. postgres://user:pw@127.0.0.1:5432/mdr (env: MDR_DATABASE_URL).")
    var url: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env: MDR_LOG_LEVEL; default: info for serve, warning otherwise).")
    var logLevel: String?

    func configuration() throws -> DatabaseConfiguration {
        guard let url = url ?? ProcessInfo.processInfo.environment["MDR_DATABASE_URL"], !url.isEmpty else {
            throw ValidationError("no database: pass --database-url or set MDR_DATABASE_URL (./ops/run sets it for you)")
        }
        do {
            return try DatabaseConfiguration(url: url)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func logger(default level: Logger.Level) throws -> Logger {
        var logger = Logger(label: "mdr")
        let raw = logLevel ?? ProcessInfo.processInfo.environment["MDR_LOG_LEVEL"]
        if let raw {
            guard let parsed = Logger.Level(rawValue: raw.lowercased()) else { throw ValidationError("unknown log level '\(raw)'") }
            logger.logLevel = parsed
        } else {
            logger.logLevel = level
        }
        return logger
    }

    /// Runs `body` with a connected pool, for one-shot commands.
    func withDatabase<T: Sendable>(_ body: @Sendable (Database) async throws -> T) async throws -> T {
        let logger = try logger(default: .warning)
        // The pool's own warnings stay out of a command's output: a one-shot command that cannot reach the database
        // says so itself (below), and PostgresNIO warns of a query made before its pool's `run()` has begun, which a
        // command racing its pool's start may do (the query waits; nothing is wrong).
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .error)
        let database = Database(try configuration(), logger: logger, poolLogger: poolLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            guard await database.ping(timeout: .seconds(10)) else {
                throw CLIError("cannot reach the database at \(try configuration().host):\(try configuration().port)")
            }
            return try await body(database)
        }
    }
}

/// A failure the CLI reports as one line on standard error, with a non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension DomainError {
    /// For the CLI: `error: consent_missing: …` and exit status 1.
    var cliMessage: String { "\(code.rawValue): \(message)" }
}

/// Runs a command body and turns domain refusals into a clear message and exit status 1.
func reportingRefusals(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as DomainError {
        FileHandle.standardError.write(Data("error: \(error.cliMessage)\n".utf8))
        throw ExitCode(1)
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONCoding.prettyEncoder()
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// An app registration's client secret, from a file or the environment: never on the command line (shell history,
/// `ps`), never printed.
struct ClientSecretOptions: ParsableArguments {
    @Option(name: .customLong("client-secret-file"), help: "Read the client secret from this file (its first line).")
    var clientSecretFile: String?
    @Option(name: .customLong("client-secret-env"), help: "Read the client secret from this environment variable.")
    var clientSecretEnv: String?

    func validate() throws {
        if (clientSecretFile == nil) == (clientSecretEnv == nil) {
            throw ValidationError("give the client secret with exactly one of --client-secret-file or --client-secret-env (never on the command line)")
        }
    }

    /// The secret, not empty.
    func read() throws -> String {
        let secret: String
        if let file = clientSecretFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("cannot read \(file)") }
            secret = text.split(whereSeparator: \.isNewline).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        } else {
            secret = ProcessInfo.processInfo.environment[clientSecretEnv ?? ""] ?? ""
        }
        guard !secret.isEmpty else { throw ValidationError("the client secret is empty") }
        return secret
    }

    /// Refuses URL options that are not http(s).
    static func validateURLs(_ options: [(name: String, value: String?)]) throws {
        for (name, value) in options {
            if let value, URL(string: value)?.scheme.map({ ["https", "http"].contains($0) }) != true {
                throw ValidationError("\(name) must be an https URL")
            }
        }
    }
}
