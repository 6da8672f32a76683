import ArgumentParser
import Foundation
import MDRApplication
import MDRConnectors
import MDRDomain
import MDRResponse
import MDRStore

struct GraphCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph", abstract: "Each tenant's Microsoft Graph alerts connection, pulled by the Graph alerts connector.",
        discussion: """
            `mdr serve` (role all or workers) pulls each connected tenant's alerts from GET /security/alerts_v2 and ingests them \
            as if they had been pushed to /v1/tenants/{t}/signals/graph. The client secret is stored in the database (table \
            graph_connections) and never printed. See docs/detection.md.
            """,
        subcommands: [SetConnection.self, List.self, Remove.self])

    struct SetConnection: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Create or replace a tenant's Graph connection (an Entra app registration in the customer's tenant).",
            discussion: "The app needs the application permission SecurityAlert.Read.All with admin consent. A new connection pulls at once, from a day back.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The MDR tenant (onboarded already).") var tenant: String
        @Option(name: .customLong("tenant-id"), help: "The customer's Entra tenant (directory) id.") var tenantID: String
        @Option(name: .customLong("client-id"), help: "The application (client) id of the app registration.") var clientID: String
        @OptionGroup var secret: ClientSecretOptions
        @Option(name: .customLong("base-url"), help: "The Graph root (default https://graph.microsoft.com).") var baseURL: String?
        @Option(help: "The identity platform root (default https://login.microsoftonline.com).") var authority: String?

        func validate() throws {
            try ClientSecretOptions.validateURLs([("--base-url", baseURL), ("--authority", authority)])
        }

        func run() async throws {
            let tenantID: TenantID
            do { tenantID = try TenantID.parse(tenant) } catch { throw ValidationError(error.message) }
            let secret = try self.secret.read()
            guard !self.tenantID.isEmpty, !clientID.isEmpty else { throw ValidationError("--tenant-id and --client-id must not be empty") }
            let credentials = EntraAppCredentials(
                baseURL: baseURL ?? "https://graph.microsoft.com", authority: authority ?? "https://login.microsoftonline.com",
                tenantID: self.tenantID, clientID: clientID, clientSecret: secret, scope: "https://graph.microsoft.com/.default")
            try await reportingRefusals {
                try await database.withDatabase { db in
                    guard try await QueryService(store: EventStore(database: db)).tenant(tenantID) != nil else {
                        throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenantID)' not found: onboard it first")
                    }
                    try await GraphConnectionStore(database: db).set(tenant: tenantID, credentials: credentials)
                }
                print("\(tenantID): graph connection set (\(credentials.baseURL), client \(credentials.clientID); secret stored, not shown)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the Graph connections and how their pulls go (never their secrets).")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let connections = try await database.withDatabase { try await GraphConnectionStore(database: $0).list() }
            let now = Date()
            for c in connections {
                let h = c.health
                let fields = [
                    "\(c.tenant)", "client \(c.credentials.clientID)", "alerts \(h.alertsIngested)",
                    "last success \(h.lastSuccessAt.map(Timestamp.format) ?? "never")", "lag \(Int(h.lag(at: now, setAt: c.createdAt))) s",
                    h.failures > 0 ? "failing (\(h.failures)×): \(h.lastError ?? "")" : "ok",
                ]
                print(fields.joined(separator: "\t"))
            }
            if connections.isEmpty { print("no Graph connections") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a tenant's Graph connection: its alerts are no longer pulled (those ingested stay).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The tenant.") var tenant: String

        func run() async throws {
            let tenantID: TenantID
            do { tenantID = try TenantID.parse(tenant) } catch { throw ValidationError(error.message) }
            guard try await database.withDatabase({ try await GraphConnectionStore(database: $0).remove(tenant: tenantID) }) else {
                throw CLIError("tenant '\(tenantID)' has no Graph connection")
            }
            print("removed the Graph connection of \(tenantID)")
        }
    }
}
