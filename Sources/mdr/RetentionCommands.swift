import ArgumentParser
import Foundation
import MDRDomain
import MDRProjections
import MDRStore

/// `mdr retention`: archive and remove security events past their retention (docs/audit.md, "Retention").
struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Archive and remove security events past their retention period, under a signed cut.",
        subcommands: [Keygen.self, SetPolicy.self, Run.self, List.self])

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new Ed25519 key pair for signing retention cuts.",
            discussion: """
                Keep the private key as MDR_RETENTION_SIGNING_KEY where `mdr retention run` runs; give the public key to \
                auditors (`mdr audit verify --retention-public-key`).
                """)

        func run() throws {
            let (privateKey, publicKey) = RetentionSigner.generate()
            print("MDR_RETENTION_SIGNING_KEY=\(privateKey)")
            print("MDR_RETENTION_PUBLIC_KEY=\(publicKey)")
        }
    }

    struct SetPolicy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Set a tenant's retention period in months (default 24, MDR_RETENTION_MONTHS).")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The tenant.") var tenant: String
        @Option(help: "Months to keep security events (1–1200).") var months: Int

        func run() async throws {
            let tenantID: TenantID
            do { tenantID = try TenantID.parse(tenant) } catch { throw ValidationError(error.message) }
            try await reportingRefusals {
                try await database.withDatabase { db in
                    try await RetentionStore(database: db).setPolicy(tenant: tenantID, months: months, by: "cli:\(NSUserName())")
                }
            }
            print("tenant \(tenantID): security events are kept \(months) months")
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Archive and remove what is past retention, tenant by tenant; print each cut.",
            discussion: """
                Removes whole streams: signals and notifications whose last event is older than the cutoff, and incidents \
                resolved or dismissed before it. Tenants, device inventories, suppression rules and device isolation \
                histories are kept. Each removed event leaves a tombstone with its digest, so `mdr audit verify` still \
                verifies the whole chain. Signed with MDR_RETENTION_SIGNING_KEY (see `mdr retention keygen`).
                """)

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only this tenant (default: every tenant).") var tenant: String?
        @Option(name: .customLong("archive-dir"), help: "Where the archives are written (must exist).") var archiveDirectory: String
        @Option(
            help: "Remove what is older than this (ISO-8601 or YYYY-MM-DD) instead of each tenant's retention period; never later than now.")
        var before: String?

        func run() async throws {
            let env = ProcessInfo.processInfo.environment
            guard let rawKey = env["MDR_RETENTION_SIGNING_KEY"], let signer = RetentionSigner(base64: rawKey) else {
                throw ValidationError("MDR_RETENTION_SIGNING_KEY must hold the base64 of a 32-byte Ed25519 private key: make one with `mdr retention keygen`")
            }
            var defaultMonths = RetentionStore.defaultMonths
            if let raw = env["MDR_RETENTION_MONTHS"], !raw.isEmpty {
                guard let months = Int(raw), (1...1200).contains(months) else { throw ValidationError("MDR_RETENTION_MONTHS must be 1–1200") }
                defaultMonths = months
            }
            var only: TenantID?
            if let tenant {
                do { only = try TenantID.parse(tenant) } catch { throw ValidationError(error.message) }
            }
            let now = Date()
            let fixed = try before.map { try Audit.Export.instant($0, option: "--before") }
            if let fixed, fixed > now { throw ValidationError("--before lies in the future: retention removes only the past") }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: archiveDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--archive-dir \(archiveDirectory) is not a directory")
            }
            let directory = URL(fileURLWithPath: archiveDirectory)
            let tenantFilter = only
            let fallbackMonths = defaultMonths
            try await reportingRefusals {
                try await database.withDatabase { db in
                    let retention = RetentionStore(
                        database: db, forgetting: ReadModels.standard() + [NotificationOutbox(database: db)] as [any StreamForgetting])
                    let policies = try await retention.policies()
                    var tenants = [TenantID]()
                    if let tenantFilter { tenants = [tenantFilter] } else { tenants = try await EventStore(database: db).tenants() }
                    for tenant in tenants {
                        let months = policies[tenant] ?? fallbackMonths
                        let cutoff = fixed ?? RetentionStore.cutoff(months: months, before: now)
                        guard
                            let cut = try await retention.cut(
                                tenant: tenant, cutoff: cutoff, policyMonths: months, archiveDirectory: directory, signer: signer,
                                by: "cli:\(NSUserName())", now: now)
                        else {
                            print("tenant \(tenant): nothing older than \(Timestamp.format(cutoff))")
                            continue
                        }
                        print(
                            "tenant \(tenant): removed \(cut.removedCount) events (positions \(cut.firstPosition)–\(cut.lastPosition)) older than "
                                + "\(Timestamp.format(cutoff)); archive \(directory.appendingPathComponent(cut.archiveName).path), cut \(cut.cutID)")
                    }
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the retention cuts made, oldest first.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only this tenant.") var tenant: String?

        func run() async throws {
            var only: TenantID?
            if let tenant {
                do { only = try TenantID.parse(tenant) } catch { throw ValidationError(error.message) }
            }
            let filter = only
            let cuts = try await database.withDatabase { try await RetentionStore(database: $0).cuts(tenant: filter) }
            for cut in cuts {
                print(
                    "\(Timestamp.format(cut.cutAt)) \(cut.tenant) cut \(cut.cutID): \(cut.removedCount) events older than "
                        + "\(Timestamp.format(cut.cutoff)) (\(cut.policyMonths) months), archive \(cut.archiveName) "
                        + "sha256 \(AuditExport.hex(cut.archiveSHA256)), signature \(cut.hasValidSignature() ? "valid" : "INVALID")")
            }
            if cuts.isEmpty { print("no retention cut yet") }
        }
    }
}
