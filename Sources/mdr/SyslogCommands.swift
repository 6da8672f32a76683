import ArgumentParser
import Foundation
import MDRApplication
import MDRDomain
import MDRStore
import MDRSyslog

struct SyslogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syslog", abstract: "The syslog listener's senders (firewalls that send CEF over syslog).",
        subcommands: [Sender.self])

    struct Sender: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Map a sender's source address to its tenant.",
            discussion: "The listener reads the map every 15 seconds; messages from unmapped addresses are dropped and counted.",
            subcommands: [Add.self, List.self, Remove.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Map an IPv4 or IPv6 address to a tenant.")
            @OptionGroup var database: DatabaseOptions
            @Argument(help: "The address the firewall sends from, e.g. 192.0.2.10.") var address: String
            @Option(help: "The tenant its messages belong to (onboarded already).") var tenant: String

            func run() async throws {
                let tenantID: TenantID
                do { tenantID = try TenantID.parse(tenant) } catch { throw ValidationError(error.message) }
                let user = ProcessInfo.processInfo.environment["USER"] ?? "operator"
                try await reportingRefusals {
                    let sender = try await database.withDatabase { db in
                        guard try await QueryService(store: EventStore(database: db)).tenant(tenantID) != nil else {
                            throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenantID)' not found: onboard it first")
                        }
                        return try await SyslogSenderStore(database: db).add(address: address, tenant: tenantID, addedBy: "cli:\(user)")
                    }
                    print("\(sender.address) sends for \(sender.tenant)")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the mapped senders.")
            @OptionGroup var database: DatabaseOptions
            @Option(help: "Only this tenant's senders.") var tenant: String?

            func run() async throws {
                let only: TenantID?
                do { only = try tenant.map { raw throws(DomainError) in try TenantID.parse(raw) } } catch { throw ValidationError(error.message) }
                let senders = try await database.withDatabase { try await SyslogSenderStore(database: $0).list(tenant: only) }
                for s in senders {
                    print("\(s.address)\t\(s.tenant)\tadded \(Timestamp.format(s.addedAt)) by \(s.addedBy)")
                }
                if senders.isEmpty { print("no syslog senders\(only.map { " for \($0)" } ?? "")") }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a sender: its messages are dropped from then on.")
            @OptionGroup var database: DatabaseOptions
            @Argument(help: "The sender's address.") var address: String

            func run() async throws {
                try await reportingRefusals {
                    let removed = try await database.withDatabase { try await SyslogSenderStore(database: $0).remove(address: address) }
                    print("removed \(removed.address) (was \(removed.tenant))")
                }
            }
        }
    }
}
