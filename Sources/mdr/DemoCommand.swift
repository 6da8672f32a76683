import ArgumentParser
import Foundation
import Logging
import MDRDemo

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the whole service in a minute: onboard a sample tenant, replay an attack through the API, print what happened.",
        discussion: """
            Runs the service in-process on a free loopback port against the database (migrating it first), with two
            loopback stand-ins: a webhook receiver for Dynamic's and the customer's endpoints, and a Defender for
            Endpoint simulator for the tenant. Onboards a new tenant demo-<unix seconds> on Werkplek Veilig, replays
            phishing → risky sign-in → ransomware → firewall C2 (plus noise), and prints the correlation, the response,
            the notifications, the SLA timers, the billing line and the report. The tenant stays in the database.
            E-mail goes out only when MDR_SMTP_* is set; otherwise it fails and falls back to Dynamic, as in production.
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(name: .customLong("out-dir"), help: "Where the HTML report is written (default .mdr/demo).") var outDir: String = ".mdr/demo"

    func run() async throws {
        let configuration = try database.configuration()
        // The narrative is the output; the service's own log only on request (--log-level info or MDR_LOG_LEVEL).
        let logger = try database.logger(default: .critical)
        do {
            _ = try await Demo.run(database: configuration, logger: logger, options: Demo.Options(outputDirectory: outDir)) { line in
                // Unbuffered, so the narrative appears as the service acts.
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
        } catch let error as DemoError {
            throw CLIError("demo: \(error.description)")
        }
    }
}
