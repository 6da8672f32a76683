import ArgumentParser
import Foundation
import MDRApplication
import MDRDomain
import MDRStore

/// `mdr billing`: a month's billing lines, for one tenant or all (Dynamic's invoicing export).
struct BillingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "billing",
        abstract: "Print the billing lines of a month: one tenant's, or every tenant's (JSON or CSV).",
        discussion: """
            Workstations with monitoring active at any time in the calendar month (Europe/Amsterdam) while the contract \
            ran, servers listed apart, and for Werkplek Veilig the unit price and the amount; Werkplek Compliant shows \
            "included". See docs/billing.md.
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The month, YYYY-MM.") var month: String
    @Option(help: "Only this tenant (default: every tenant).") var tenant: String?
    @Option(help: "json or csv.") var format: String = "json"
    @Option(help: "Write to this file instead of standard output (written beside it, then moved into place).") var out: String?

    func run() async throws {
        let billingMonth: BillingMonth
        do { billingMonth = try BillingMonth.parse(month) } catch { throw ValidationError(error.message) }
        var tenantID: TenantID?
        if let tenant {
            do { tenantID = try TenantID.parse(tenant) } catch { throw ValidationError(error.message) }
        }
        guard format == "json" || format == "csv" else { throw ValidationError("--format must be json or csv, got '\(format)'") }

        let only = tenantID
        let lines: [BillingLine] = try await database.withDatabase { db in
            let queries = QueryService(store: EventStore(database: db))
            guard let tenantID = only else { return try await queries.billing(month: billingMonth) }
            guard let line = try await queries.billing(tenant: tenantID, month: billingMonth) else {
                throw CLIError("tenant_not_found: tenant '\(tenantID)' not found")
            }
            return [line]
        }
        let output: String
        if format == "csv" {
            output = BillingExport.csv(lines)
        } else {
            let encoder = JSONCoding.prettyEncoder()
            output = String(decoding: try encoder.encode(lines), as: UTF8.self) + "\n"
        }
        try write(output)
    }

    private func write(_ output: String) throws {
        guard let out else {
            FileHandle.standardOutput.write(Data(output.utf8))
            return
        }
        let destination = URL(fileURLWithPath: out)
        let partial = destination.deletingLastPathComponent().appendingPathComponent("." + destination.lastPathComponent + ".partial")
        do {
            try Data(output.utf8).write(to: partial)
        } catch {
            throw CLIError("cannot write \(partial.path): check that the directory exists and is writable")
        }
        if FileManager.default.fileExists(atPath: destination.path) { try FileManager.default.removeItem(at: destination) }
        try FileManager.default.moveItem(at: partial, to: destination)
    }
}
