import ArgumentParser

/// The subcommands of `mdr`.
let allSubcommands: [any ParsableCommand.Type] = [Serve.self, Migrate.self, Token.self, TenantCommand.self, Audit.self, Projections.self, SyslogCommand.self, EDRCommand.self, GraphCommand.self, WebhookCommand.self, BillingCommand.self, DemoCommand.self, ReportCommand.self, RetentionCommand.self]
