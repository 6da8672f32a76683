import ArgumentParser
import Foundation
import MDRDomain
import MDRReports
import MDRStore

/// `mdr report`: a tenant's periodic report as HTML or JSON (docs/reports.md).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a tenant's report for a month or a period, as printable HTML or as JSON.",
        discussion: """
            The figures come from the read models (docs/reports.md says how each is counted), so they lag the log by the \
            projections' lag (`mdr projections lag`). Days are Europe/Amsterdam calendar days. The file is written beside \
            --out and then moved into place. Examples:
              mdr report --tenant acme --month 2026-11 --out acme-2026-11.html
              mdr report --tenant acme --from 2026-11-01 --to 2026-11-15 --format json --out acme.json
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The tenant the report is for.") var tenant: String
    @Option(help: "A calendar month, YYYY-MM (Europe/Amsterdam).") var month: String?
    @Option(help: "The first day of the period, YYYY-MM-DD (with --to, instead of --month).") var from: String?
    @Option(help: "The last day of the period, YYYY-MM-DD, included.") var to: String?
    @Option(help: "html or json (default: json when --out ends in .json, else html).") var format: String?
    @Option(help: "Write to this file (default: standard output).") var out: String?

    func validate() throws {
        do { _ = try TenantID.parse(tenant) } catch { throw ValidationError(error.message) }
        do { _ = try ReportPeriod.requested(month: month, from: from, to: to) } catch { throw ValidationError(error.message) }
        if let format, ReportFormat(rawValue: format) == nil { throw ValidationError("--format '\(format)' is not html or json") }
    }

    func run() async throws {
        let tenantID = try TenantID.parse(tenant)
        let period = try ReportPeriod.requested(month: month, from: from, to: to)
        let chosen = format.flatMap(ReportFormat.init(rawValue:)) ?? (out?.lowercased().hasSuffix(".json") == true ? .json : .html)
        try await reportingRefusals {
            let report = try await database.withDatabase { db in
                try await ReportBuilder(database: db).report(tenant: tenantID, period: period, at: Date())
            }
            let data = try ReportRenderer.render(report, as: chosen)
            guard let out else {
                FileHandle.standardOutput.write(data)
                return
            }
            do {
                try ReportFile.write(data, to: URL(fileURLWithPath: out))
            } catch {
                throw CLIError("cannot write \(out): check that the directory exists and is writable")
            }
            FileHandle.standardError.write(
                Data("wrote the \(chosen.rawValue) report of tenant \(tenantID) for \(period.from) … \(period.to) to \(out)\n".utf8))
        }
    }
}
