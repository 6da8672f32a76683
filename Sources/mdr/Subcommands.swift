import ArgumentParser

/// The subcommands of `mdr`. `serve` joins when the HTTP server is assembled.
let allSubcommands: [any ParsableCommand.Type] = [Migrate.self, Token.self, TenantCommand.self, Audit.self]
