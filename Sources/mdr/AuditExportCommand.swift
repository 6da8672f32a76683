import ArgumentParser
import Foundation
import MDRDomain
import MDRStore

extension Audit {
    /// `mdr audit export`: a tenant's log as JSON Lines an auditor verifies offline (docs/audit.md).
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a tenant's events as JSON Lines that an auditor can verify offline.",
            discussion: """
                The first line is a header (tenant, range, anchor hash, last hash, export time, format); every further line \
                is one event with all the fields its hash covers. Verify with `python3 ops/verify-audit-export.py FILE` \
                (docs/audit.md). Times are ISO-8601 with a zone (2026-11-01T00:00:00Z) or a date (2026-11-01: midnight \
                Europe/Amsterdam); --from is inclusive, --to exclusive.
                """)

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The tenant whose log is exported.") var tenant: String
        @Option(help: "Export events recorded at or after this time.") var from: String?
        @Option(help: "Export events recorded before this time.") var to: String?
        @Option(help: "Write to this file instead of standard output (written beside it, then moved into place).") var out: String?

        func run() async throws {
            let tenantID: TenantID
            do { tenantID = try TenantID.parse(tenant) } catch { throw ValidationError(error.message) }
            let fromDate = try from.map { try Self.instant($0, option: "--from") }
            let toDate = try to.map { try Self.instant($0, option: "--to") }
            if let fromDate, let toDate, fromDate > toDate {
                throw ValidationError("--from \(from ?? "") is after --to \(to ?? ""): swap them")
            }

            let destination = out.map { URL(fileURLWithPath: $0) }
            let partial = destination.map { $0.deletingLastPathComponent().appendingPathComponent("." + $0.lastPathComponent + ".partial") }
            let handle: FileHandle
            if let partial {
                guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
                    throw CLIError("cannot write \(partial.path): check that the directory exists and is writable")
                }
                handle = try FileHandle(forWritingTo: partial)
            } else {
                handle = FileHandle.standardOutput
            }
            let header: AuditExport.Header
            do {
                header = try await database.withDatabase { db in
                    try await AuditExport(database: db).export(tenant: tenantID, from: fromDate, to: toDate) { chunk in
                        try handle.write(contentsOf: Data(chunk.utf8))
                    }
                }
            } catch let error as DomainError {
                if let partial { try? FileManager.default.removeItem(at: partial) }
                FileHandle.standardError.write(Data("error: \(error.cliMessage)\n".utf8))
                throw ExitCode(1)
            } catch {
                if let partial { try? FileManager.default.removeItem(at: partial) }
                throw error
            }
            if let partial, let destination {
                try handle.close()
                if FileManager.default.fileExists(atPath: destination.path) { try FileManager.default.removeItem(at: destination) }
                try FileManager.default.moveItem(at: partial, to: destination)
            }
            let span = header.firstPosition.map { "positions \($0)–\(header.lastPosition ?? $0)" } ?? "no events in the range"
            let last = header.lastHash.map { ", last hash \(AuditExport.hex($0))" } ?? ""
            FileHandle.standardError.write(
                Data("exported \(header.eventCount) events of tenant \(tenantID) (\(span))\(last)\(out.map { " to \($0)" } ?? "")\n".utf8))
        }

        /// An ISO-8601 time with a zone, or a calendar date taken as midnight in Europe/Amsterdam.
        static func instant(_ raw: String, option: String) throws -> Date {
            if let date = Timestamp.parse(raw) { return date }
            if let day = CalendarDate(raw) { return BusinessClock.standard.startOfDay(day) }
            throw ValidationError("\(option) '\(raw)' is not a time: use 2026-11-01T00:00:00Z (ISO-8601 with a zone) or 2026-11-01")
        }
    }
}
