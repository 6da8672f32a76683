import Foundation
import MDRApplication
import MDRDomain
import MDRStore
import MDRTestSupport
import Testing

/// `mdr graph set|list|remove` as an operator uses it: the secret comes from the environment or a file, is stored,
/// and is never printed.
@Suite("mdr graph")
struct GraphCommandLineTests {
    @Test func anOperatorConnectsListsAndRemovesATenantsGraphWithoutEverSeeingTheSecret() async throws {
        try await TestDatabase.withDatabase { db, config in
            let commands = CommandService(store: EventStore(database: db))
            _ = try await commands.onboardTenant(Fixtures.onboard("acme-bv"), context: CommandContext(principal: Fixtures.dynamic))
            let secret = "Gr4ph~very-secret-value"
            let set = try CommandLineRunner.mdr(
                ["graph", "set", "--tenant", "acme-bv", "--tenant-id", "contoso-tenant", "--client-id", "mdr-graph-app", "--client-secret-env", "GRAPH_SECRET"],
                database: config, environment: ["GRAPH_SECRET": secret])
            #expect(set.status == 0 && set.output.contains("acme-bv: graph connection set"), "\(set.output)")
            let list = try CommandLineRunner.mdr(["graph", "list"], database: config)
            #expect(list.status == 0 && list.output.contains("acme-bv\tclient mdr-graph-app\talerts 0\tlast success never"), "\(list.output)")
            #expect(!set.output.contains(secret) && !list.output.contains(secret))

            // Refusals: no secret, a secret on the command line, an unknown tenant.
            let noSecret = try CommandLineRunner.mdr(
                ["graph", "set", "--tenant", "acme-bv", "--tenant-id", "t", "--client-id", "c"], database: config)
            #expect(noSecret.status != 0 && noSecret.output.contains("exactly one of --client-secret-file or --client-secret-env"))
            let onTheLine = try CommandLineRunner.mdr(
                ["graph", "set", "--tenant", "acme-bv", "--tenant-id", "t", "--client-id", "c", "--client-secret", secret], database: config)
            #expect(onTheLine.status != 0)
            let unknown = try CommandLineRunner.mdr(
                ["graph", "set", "--tenant", "globex", "--tenant-id", "t", "--client-id", "c", "--client-secret-env", "GRAPH_SECRET"],
                database: config, environment: ["GRAPH_SECRET": secret])
            #expect(unknown.status != 0 && unknown.output.contains("tenant 'globex' not found"), "\(unknown.output)")

            let removed = try CommandLineRunner.mdr(["graph", "remove", "--tenant", "acme-bv"], database: config)
            #expect(removed.status == 0 && removed.output.contains("removed the Graph connection of acme-bv"))
            let again = try CommandLineRunner.mdr(["graph", "remove", "--tenant", "acme-bv"], database: config)
            #expect(again.status != 0 && again.output.contains("has no Graph connection"))
            #expect(try CommandLineRunner.mdr(["graph", "list"], database: config).output.contains("no Graph connections"))
        }
    }
}
