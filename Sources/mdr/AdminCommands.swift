import ArgumentParser
import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import MDRStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the database migrations of schema/ that are missing (as the database's owner).",
        discussion: """
            With --service-login and --tenant-login it then makes the login roles `mdr serve` runs as (docs/operations.md, \
            "Database roles"), unless they exist, and sets their passwords from the environment variables named (never on \
            the command line; without one the password is left as it is).
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(help: "A login role for the service's own work (member of mdr_service; its MDR_DATABASE_URL).") var serviceLogin: String?
    @Option(help: "Read the service login's password from this environment variable.") var servicePasswordEnv: String?
    @Option(help: "A login role for customers' and connectors' requests (member of mdr_tenant_scoped; MDR_TENANT_DATABASE_URL).")
    var tenantLogin: String?
    @Option(help: "Read the tenant login's password from this environment variable.") var tenantPasswordEnv: String?

    func validate() throws {
        if servicePasswordEnv != nil, serviceLogin == nil { throw ValidationError("--service-password-env needs --service-login") }
        if tenantPasswordEnv != nil, tenantLogin == nil { throw ValidationError("--tenant-password-env needs --tenant-login") }
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        func password(_ variable: String?) throws -> String? {
            guard let variable else { return nil }
            guard let value = env[variable], !value.isEmpty else { throw ValidationError("the environment variable \(variable) is not set") }
            return value
        }
        let logins = [(serviceLogin, DatabaseLogins.Purpose.service, try password(servicePasswordEnv)), (tenantLogin, .tenantScoped, try password(tenantPasswordEnv))]
        let (applied, made) = try await database.withDatabase { db in
            let applied = try await Migrator(database: db).migrate()
            var made: [String] = []
            for case let (name?, purpose, password) in logins {
                let new = try await DatabaseLogins(database: db).ensure(name, for: purpose, password: password)
                made.append("\(name) (\(purpose.rawValue)\(new ? ", new" : ""))")
            }
            return (applied, made)
        }
        print(applied.isEmpty ? "the schema is up to date" : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
        if !made.isEmpty { print("login roles: \(made.joined(separator: ", "))") }
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage API bearer tokens.", subcommands: [Create.self, List.self, Rotate.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it once (it is stored hashed and cannot be shown again).")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "What the token is for, e.g. 'soc-platform' or 'acme firewall connector'.") var name: String
        @Option(help: "soc, dynamic, customer or connector.") var role: String
        @Option(help: "The tenant a customer or connector token is bound to.") var tenant: String?
        @Option(name: .customLong("expires-in-days"), help: "Expire the token after this many days (default: never).") var expiresInDays: Int?

        func run() async throws {
            guard let role = Role(rawValue: role) else {
                throw ValidationError("unknown role '\(role)': use soc, dynamic, customer or connector")
            }
            let tenantID: TenantID?
            do {
                tenantID = try tenant.map { raw throws(DomainError) in try TenantID.parse(raw) }
            } catch {
                throw ValidationError(error.message)
            }
            if let days = expiresInDays, days <= 0 { throw ValidationError("--expires-in-days must be positive") }
            let expires = expiresInDays.map { Date().addingTimeInterval(TimeInterval($0) * 86400) }
            let (info, secret) = try await database.withDatabase { db in
                do {
                    return try await TokenStore(database: db).create(name: name, role: role, tenant: tenantID, expiresAt: expires)
                } catch let error as TokenStore.TokenError {
                    throw ValidationError(error.description)
                }
            }
            print(secret)
            FileHandle.standardError.write(
                Data("token \(info.id.uuidString.lowercased()) '\(info.name)' role \(info.role.rawValue)\(info.tenant.map { " tenant \($0)" } ?? ""): shown once, store it now\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens (never their secrets): id, role, tenant, state, last used, expiry, revocation, name.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let tokens = try await database.withDatabase { try await TokenStore(database: $0).list() }
            let now = Date()
            for t in tokens {
                let state = t.revokedAt != nil ? "revoked" : (t.expiresAt.map { $0 <= now } ?? false) ? "expired" : "active"
                let columns = [
                    t.id.uuidString.lowercased(), t.role.rawValue, t.tenant?.rawValue ?? "-", state,
                    "last used \(t.lastUsedAt.map(Timestamp.format) ?? "never")",
                    "expires \(t.expiresAt.map(Timestamp.format) ?? "never")",
                    "revoked \(t.revokedAt.map(Timestamp.format) ?? "-")",
                    t.replacedBy.map { "replaced by \($0.uuidString.lowercased())" },
                    t.name,
                ]
                print(columns.compactMap { $0 }.joined(separator: "\t"))
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a token: print a new one (same name, role and tenant) once; the old one expires after a grace period.",
            discussion: "The old token keeps working for --grace-minutes (default 60), or until its own expiry if that is sooner.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The token's id (from `mdr token list`).") var id: String
        @Option(name: .customLong("expires-in-days"), help: "Expire the new token after this many days (default: never).") var expiresInDays: Int?
        @Option(name: .customLong("grace-minutes"), help: "Minutes the old token keeps working (0 ends it now).") var graceMinutes = 60

        func run() async throws {
            guard let uuid = UUID(uuidString: id) else { throw ValidationError("'\(id)' is not a token id") }
            if let days = expiresInDays, days <= 0 { throw ValidationError("--expires-in-days must be positive") }
            guard graceMinutes >= 0 else { throw ValidationError("--grace-minutes cannot be negative") }
            let now = Date()
            let expires = expiresInDays.map { now.addingTimeInterval(TimeInterval($0) * 86400) }
            let (info, secret, oldExpiresAt) = try await database.withDatabase { db in
                do {
                    return try await TokenStore(database: db).rotate(
                        id: uuid, expiresAt: expires, grace: TimeInterval(graceMinutes) * 60, now: now)
                } catch let error as TokenStore.TokenError {
                    throw CLIError(error.description)
                }
            }
            print(secret)
            let scope = info.tenant.map { " tenant \($0)" } ?? ""
            let note =
                "token \(info.id.uuidString.lowercased()) '\(info.name)' role \(info.role.rawValue)\(scope): shown once, store it now; "
                + "\(id.lowercased()) stops working at \(Timestamp.format(oldExpiresAt))\n"
            FileHandle.standardError.write(Data(note.utf8))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The token's id (from `mdr token list`).") var id: String

        func run() async throws {
            guard let uuid = UUID(uuidString: id) else { throw ValidationError("'\(id)' is not a token id") }
            guard try await database.withDatabase({ try await TokenStore(database: $0).revoke(id: uuid) }) else {
                throw CLIError("no active token \(id)")
            }
            print("revoked \(id.lowercased())")
        }
    }
}

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Onboard and look up tenants.", subcommands: [Onboard.self, Show.self, List.self])

    struct Onboard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Onboard a customer for MDR (as Dynamic). Prints the tenant as JSON.",
            discussion: "Compliant includes MDR (SLA A); Veilig adds it (SLA B) at --price-cents per workstation per month; Modern is refused.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The tenant id: 2–63 characters of a-z, 0-9 and '-'.") var id: String
        @Option(help: "The organisation's name.") var name: String
        @Option(help: "compliant, veilig or modern.") var package: String
        @Option(name: .customLong("contract-start"), help: "YYYY-MM-DD.") var contractStart: String
        @Option(name: .customLong("price-cents"), help: "Veilig: price per workstation per month in euro cents.") var priceCents: Int?
        @Option(name: .customLong("primary-name")) var primaryName: String?
        @Option(name: .customLong("primary-email")) var primaryEmail: String?
        @Option(name: .customLong("primary-phone")) var primaryPhone: String?
        @Option(name: .customLong("after-hours-channel"), help: "email, phone or webhook.") var afterHoursChannel: String?
        @Option(name: .customLong("after-hours-address")) var afterHoursAddress: String?
        @Option(name: .customLong("after-hours-note")) var afterHoursNote: String?
        @Option(name: .customLong("consent-by"), help: "Who at the customer consented to direct intervention.") var consentBy: String?
        @Option(name: .customLong("consent-on"), help: "When (YYYY-MM-DD).") var consentOn: String?
        @Flag(help: "The customer falls under NIS2.") var nis2 = false
        @Option(name: .customLong("idempotency-key"), help: "A command id: repeating the command with it returns the first outcome.") var idempotencyKey: String?

        func run() async throws {
            let tenantID: TenantID
            do { tenantID = try TenantID.parse(id) } catch { throw ValidationError(error.message) }
            guard let pkg = ServicePackage(rawValue: package) else { throw ValidationError("unknown package '\(package)': use compliant, veilig or modern") }
            guard let start = CalendarDate(contractStart) else { throw ValidationError("--contract-start must be YYYY-MM-DD") }
            var primary: Contact? = nil
            if primaryName != nil || primaryEmail != nil {
                primary = Contact(name: primaryName ?? "", email: primaryEmail ?? "", phone: primaryPhone)
            }
            var route: ContactRoute? = nil
            if let channel = afterHoursChannel {
                guard let c = ContactRoute.Channel(rawValue: channel) else { throw ValidationError("unknown channel '\(channel)': use email, phone or webhook") }
                route = ContactRoute(channel: c, address: afterHoursAddress ?? "", note: afterHoursNote)
            }
            var consent: InterventionConsent? = nil
            if let by = consentBy {
                guard let on = CalendarDate(consentOn ?? "") else { throw ValidationError("--consent-on must be YYYY-MM-DD") }
                consent = InterventionConsent(grantedBy: by, grantedOn: on)
            }
            let command = OnboardTenant(
                tenantID: tenantID, name: name, package: pkg, contractStart: start, pricePerWorkstationCents: priceCents,
                primaryContact: primary, afterHoursRoute: route, consent: consent, nis2InScope: nis2, at: Date())
            let user = ProcessInfo.processInfo.environment["USER"] ?? "operator"
            try await reportingRefusals {
                let outcome = try await database.withDatabase { db in
                    try await CommandService(store: EventStore(database: db)).onboardTenant(
                        command, context: CommandContext(principal: .system("cli:\(user)"), commandID: idempotencyKey))
                }
                try printJSON(outcome.result)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a tenant as JSON.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The tenant id.") var id: String

        func run() async throws {
            let tenantID: TenantID
            do { tenantID = try TenantID.parse(id) } catch { throw ValidationError(error.message) }
            guard let tenant = try await database.withDatabase({ try await QueryService(store: EventStore(database: $0)).tenant(tenantID) }) else {
                throw CLIError("tenant_not_found: tenant '\(id)' not found")
            }
            try printJSON(tenant)
        }
    }
}

extension TenantCommand {
    /// `mdr tenant list`: the portfolio, as `GET /v1/tenants` gives it.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every tenant as of a date: package, onboarding, contract phase and end, devices, open incidents (JSON or CSV).",
            discussion: """
                The contract as known at the end of --on (Europe/Amsterdam; today by default). Filters combine: \
                --phase initial|indefinite|under_notice|ended, --package, --ends-before YYYY-MM-DD (contracts under notice \
                ending before it), --onboarding onboarded|rolled_out|handed_over|monitoring_active.
                """)

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The date, YYYY-MM-DD (default: today in Europe/Amsterdam).") var on: String?
        @Option(help: "initial, indefinite, under_notice or ended.") var phase: String?
        @Option(help: "compliant, veilig or modern.") var package: String?
        @Option(name: .customLong("ends-before"), help: "Only contracts under notice that end before this date, YYYY-MM-DD.") var endsBefore: String?
        @Option(help: "onboarded, rolled_out, handed_over or monitoring_active.") var onboarding: String?
        @Option(help: "json or csv.") var format: String = "json"

        func run() async throws {
            func parsed<T>(_ name: String, _ raw: String?, _ make: (String) -> T?, _ expected: String) throws -> T? {
                guard let raw else { return nil }
                guard let value = make(raw) else { throw ValidationError("--\(name) '\(raw)': expected \(expected)") }
                return value
            }
            let date = try parsed("on", on, CalendarDate.init, "YYYY-MM-DD") ?? BusinessClock.standard.localDate(of: Date())
            let filter = PortfolioFilter(
                phase: try parsed("phase", phase, ContractPhase.init(rawValue:), "initial, indefinite, under_notice or ended"),
                package: try parsed("package", package, ServicePackage.init(rawValue:), "compliant, veilig or modern"),
                endsBefore: try parsed("ends-before", endsBefore, CalendarDate.init, "YYYY-MM-DD"),
                onboarding: try parsed("onboarding", onboarding, OnboardingPhase.init(rawValue:), "onboarded, rolled_out, handed_over or monitoring_active"))
            guard format == "json" || format == "csv" else { throw ValidationError("--format must be json or csv, got '\(format)'") }
            let page = try await database.withDatabase { db in
                try await QueryService(store: EventStore(database: db)).portfolio(
                    on: date, filter: filter, openIncidents: try await ReadModels(database: db).openIncidentCounts())
            }
            if format == "csv" {
                FileHandle.standardOutput.write(Data(PortfolioExport.csv(page.entries).utf8))
            } else {
                try printJSON(page.entries)
            }
        }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Audit evidence.", subcommands: [Verify.self, Export.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute each tenant's hash chain and report the first bad position.",
            discussion: "Exits 0 when every chain is intact, 1 when any is broken (edited, deleted, inserted or reordered events).")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Verify only this tenant.") var tenant: String?
        @Option(
            name: .customLong("retention-public-key"),
            help: "The public key (base64) retention cuts must be signed with (env: MDR_RETENTION_PUBLIC_KEY; default: the key recorded in each cut).")
        var retentionPublicKey: String?

        func run() async throws {
            let only: TenantID?
            do { only = try tenant.map { raw throws(DomainError) in try TenantID.parse(raw) } } catch { throw ValidationError(error.message) }
            var publicKey: Data?
            if let raw = retentionPublicKey ?? ProcessInfo.processInfo.environment["MDR_RETENTION_PUBLIC_KEY"].flatMap({ $0.isEmpty ? nil : $0 }) {
                guard let key = Data(base64Encoded: raw), key.count == 32 else {
                    throw ValidationError("--retention-public-key (MDR_RETENTION_PUBLIC_KEY) must be the base64 of a 32-byte Ed25519 public key")
                }
                publicKey = key
            }
            let trusted = publicKey
            let reports = try await database.withDatabase { db in
                let verifier = ChainVerifier(database: db, retentionPublicKey: trusted)
                var reports: [ChainVerifier.Report] = []
                let tenants: [TenantID]
                if let only { tenants = [only] } else { tenants = try await verifier.tenants() }
                for t in tenants {
                    reports.append(try await verifier.verify(tenant: t))
                }
                return reports
            }
            for report in reports { print(report) }
            if reports.isEmpty { print("no tenant has events\(only.map { " (\($0))" } ?? "")") }
            if reports.contains(where: { !$0.isIntact }) { throw ExitCode(1) }
        }
    }
}
