import ArgumentParser
import Foundation
import MDRDemo
import MDRResponse

/// `mdr-bench defender`: the Defender for Endpoint simulator of the tests and the demo as a process of its own, for the
/// scripts that run `mdr serve` as processes (ops/takeover). Prints one JSON line with its port and credentials, then
/// serves until it is terminated.
struct DefenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "defender", abstract: "Run the local Defender for Endpoint simulator (for ops scripts) until terminated.")

    @Option(help: "The loopback port (default: a free one, printed).") var port: Int = 0
    @Option(name: .customLong("delay-ms"), help: "Every API call waits this long before answering.") var delayMilliseconds: Int = 0
    @Option(help: "The statuses a new action walks through, one per status request (comma-separated).")
    var script: String = "Pending,InProgress,Succeeded"

    func run() async throws {
        let statuses = script.split(separator: ",").compactMap { EDRActionStatus(rawValue: String($0)) }
        guard !statuses.isEmpty else { throw ValidationError("--script: statuses such as Pending,InProgress,Succeeded") }
        let simulator = DefenderSimulator()
        simulator.driveNewActions(through: statuses)
        simulator.answerSlowly(after: .milliseconds(delayMilliseconds))
        try await simulator.run(port: port) { port in
            let line: [String: Any] = [
                "port": port, "tenantId": simulator.tenantID, "clientId": simulator.clientID, "clientSecret": simulator.clientSecret,
            ]
            FileHandle.standardOutput.write(try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]) + Data("\n".utf8))
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
    }
}
