import Foundation
import MDRStore

/// Runs programs as an operator or an auditor would, for the tests of the command line and the offline checks.
public enum CommandLineRunner {
    public struct BinaryMissing: Error, CustomStringConvertible {
        public var description: String { "the mdr binary is not built: run `swift build --build-tests` (ops/test does)" }
    }

    /// The repository's root folder (tests read `ops/`, `docs/` and the built binary from it).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `mdr` binary of this build (`swift build --build-tests` builds it beside the tests).
    public static var mdrBinary: URL {
        get throws {
            let candidates = [".build/debug/mdr", ".build/release/mdr"].map { repositoryRoot.appendingPathComponent($0) }
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else { throw BinaryMissing() }
            return found
        }
    }

    /// Runs `executable` with `arguments`, this process's environment plus `environment`; waits for it and returns
    /// its exit status with standard output and standard error together.
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs `mdr` with `arguments`, against `database` when given (`--database-url` is appended).
    public static func mdr(
        _ arguments: [String], database: DatabaseConfiguration? = nil, environment: [String: String] = [:]
    ) throws -> (status: Int32, output: String) {
        let url = database.map { ["--database-url", "postgres://\($0.username)@\($0.host):\($0.port)/\($0.database)"] } ?? []
        return try run(try mdrBinary, arguments + url, environment: environment)
    }
}
