import ArgumentParser
import Foundation
import Logging
import MDRDomain
import MDRProjections
import MDRStore

struct Projections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read models built from the event log: rebuild them, show their lag.", subcommands: [Rebuild.self, Lag.self])

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop a projection's rows and checkpoints and replay every tenant's log into it.",
            discussion: """
                Running services keep serving and keep applying new events; they skip tenants while the reset commits and \
                catch up with the replay. Projections: \(ReadModels.standard().map(\.name).joined(separator: ", ")).
                """)

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The projection to rebuild.") var name: String?
        @Flag(help: "Rebuild every projection.") var all = false

        func validate() throws {
            if all == (name != nil) { throw ValidationError("name one projection or pass --all") }
        }

        func run() async throws {
            let names = all ? ReadModels.standard().map(\.name) : [name!]
            let logger = try database.logger(default: .warning)
            try await database.withDatabase { db in
                let runner = ProjectionRunner(ReadModels.standard(), store: EventStore(database: db), logger: logger)
                for name in names {
                    let clock = ContinuousClock()
                    let started = clock.now
                    do {
                        try await runner.rebuild(name)
                    } catch let error as ProjectionError {
                        throw CLIError(error.description)
                    }
                    let applied = try await runner.lag().filter { $0.projection == name }.reduce(Int64(0)) { $0 + $1.checkpoint }
                    print("rebuilt \(name): \(applied) log positions in \(clock.now - started)")
                }
            }
        }
    }

    struct Lag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show how far each projection is behind each tenant's log.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let lags = try await database.withDatabase { try await ReadModels(database: $0).lag() }
            for lag in lags {
                print("\(lag.projection)\t\(lag.tenant)\thead \(lag.head)\tcheckpoint \(lag.checkpoint)\tbehind \(lag.eventsBehind) events, \(String(format: "%.1f", lag.secondsBehind)) s")
            }
            if lags.isEmpty { print("no tenant has events") }
        }
    }
}
