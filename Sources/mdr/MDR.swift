import ArgumentParser
import Foundation

@main
struct MDR: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mdr",
        abstract: "The MDR backend: event-sourced, multi-tenant, on PostgreSQL.",
        discussion: """
            Configured by flags and MDR_* environment variables (MDR_DATABASE_URL, MDR_HOST, MDR_PORT, MDR_LOG_LEVEL).
            See docs/operations.md.
            """,
        subcommands: allSubcommands)
}
