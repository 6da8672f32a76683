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
            abstract: "Drop a projection's rows and replay every tenant's log into it.",
            discussion: """
                The replay runs the pipeline with this one consumer. Running services keep serving and keep applying new \
                events; they skip tenants while the reset commits and take part in the replay. Projections: \
                \(ReadModels.standard().map(\.name).joined(separator: ", ")).
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
                let runner = TenantPipeline(ReadModels.standard(), store: EventStore(database: db), logger: logger)
                for name in names {
                    let clock = ContinuousClock()
                    let started = clock.now
                    do {
                        try await runner.rebuild(name)
                    } catch let error as PipelineError {
                        throw CLIError(error.description)
                    }
                    let applied = try await runner.lag().filter { $0.consumer == name }.reduce(Int64(0)) { $0 + $1.checkpoint }
                    print("rebuilt \(name): \(applied) log positions in \(clock.now - started)")
                }
            }
        }
    }

    struct Lag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show how far each consumer of the pipeline (views and process managers) is behind each tenant's log, and which are parked.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let names = ReadModels.standard().map(\.name) + ["correlator", "notifier", "responder"]
            let lags = try await database.withDatabase { db in
                try await ConsumerLag.of(names, database: db, logger: db.logger)
            }
            for lag in lags {
                var line = "\(lag.consumer)\t\(lag.tenant)\thead \(lag.head)\tcheckpoint \(lag.checkpoint)\tbehind \(lag.eventsBehind) events, \(String(format: "%.1f", lag.secondsBehind)) s"
                if lag.isParked {
                    line += "\tPARKED on position \(lag.failingPosition.map(String.init) ?? "?") after \(lag.failures) failure(s)"
                    line += lag.retryAt.map { ", next try \(Timestamp.format($0))" } ?? ""
                    line += ": \(lag.lastError ?? "")"
                }
                print(line)
            }
            if lags.isEmpty { print("no tenant has events") }
        }
    }
}
