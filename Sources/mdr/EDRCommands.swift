import ArgumentParser
import Foundation
import MDRApplication
import MDRDomain
import MDRResponse
import MDRStore

struct EDRCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edr", abstract: "Each tenant's EDR connection (Microsoft Defender for Endpoint), used by the responder.",
        discussion: """
            The client secret is stored in the database (table edr_connections) and never printed. A vault or KMS is the \
            production improvement; see docs/response.md.
            """,
        subcommands: [SetConnection.self, List.self, Remove.self])

    struct SetConnection: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Create or replace a tenant's Defender connection (an Entra app registration in the customer's tenant).",
            discussion: "The app needs Machine.Isolate, Machine.StopAndQuarantine and Machine.Read.All with admin consent.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The MDR tenant (onboarded already).") var tenant: String
        @Option(name: .customLong("entra-tenant"), help: "The customer's Entra tenant id.") var entraTenant: String
        @Option(name: .customLong("client-id"), help: "The application (client) id of the app registration.") var clientID: String
        @OptionGroup var secret: ClientSecretOptions
        @Option(name: .customLong("base-url"), help: "The Defender API root (default https://api.securitycenter.microsoft.com).")
        var baseURL: String?
        @Option(help: "The identity platform root (default https://login.microsoftonline.com).") var authority: String?

        func validate() throws {
            try ClientSecretOptions.validateURLs([("--base-url", baseURL), ("--authority", authority)])
        }

        func run() async throws {
            let tenantID: TenantID
            do { tenantID = try TenantID.parse(tenant) } catch { throw ValidationError(error.message) }
            let secret = try self.secret.read()
            guard !entraTenant.isEmpty, !clientID.isEmpty else { throw ValidationError("--entra-tenant and --client-id must not be empty") }
            let credentials = DefenderCredentials(
                baseURL: baseURL ?? "https://api.securitycenter.microsoft.com", authority: authority ?? "https://login.microsoftonline.com",
                tenantID: entraTenant, clientID: clientID, clientSecret: secret)
            try await reportingRefusals {
                try await database.withDatabase { db in
                    guard try await QueryService(store: EventStore(database: db)).tenant(tenantID) != nil else {
                        throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenantID)' not found: onboard it first")
                    }
                    try await EDRConnectionStore(database: db).set(tenant: tenantID, credentials: credentials)
                }
                print("\(tenantID): defender connection set (\(credentials.baseURL), client \(credentials.clientID); secret stored, not shown)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the EDR connections (never their secrets).")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let connections = try await database.withDatabase { try await EDRConnectionStore(database: $0).list() }
            for c in connections {
                print(
                    "\(c.tenant)\t\(c.kind)\t\(c.credentials.baseURL)\tentra tenant \(c.credentials.tenantID)\tclient \(c.credentials.clientID)\tupdated \(Timestamp.format(c.updatedAt))"
                )
            }
            if connections.isEmpty { print("no EDR connections") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a tenant's EDR connection: its isolation requests fail from then on, with a reason saying so.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The tenant.") var tenant: String

        func run() async throws {
            let tenantID: TenantID
            do { tenantID = try TenantID.parse(tenant) } catch { throw ValidationError(error.message) }
            guard try await database.withDatabase({ try await EDRConnectionStore(database: $0).remove(tenant: tenantID) }) else {
                throw CLIError("tenant '\(tenantID)' has no EDR connection")
            }
            print("removed the EDR connection of \(tenantID)")
        }
    }
}
