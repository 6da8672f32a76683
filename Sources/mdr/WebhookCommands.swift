import ArgumentParser
import Foundation
import MDRDomain
import MDRNotify
import MDRStore

struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook", abstract: "Webhook endpoints: the secrets their calls are signed with, and endpoints disabled by a 410.",
        discussion: """
            A webhook route (a customer's after-hours route, or Dynamic's) is called only when its URL has a secret here; \
            otherwise its notifications fail and Dynamic gets a fallback notice. Dynamic's own URL is registered by `mdr serve` \
            from MDR_DYNAMIC_WEBHOOK_URL and MDR_DYNAMIC_WEBHOOK_SECRET.
            """,
        subcommands: [Set.self, List.self, Enable.self, Remove.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set an endpoint's secrets (replacing the old ones) and enable it.",
            discussion: "During rotation give the new and the old secret: every call carries one signature per secret.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The endpoint's URL, exactly as in the route.") var url: String
        @Option(name: .customLong("secret-env"), help: "The environment variable holding the whsec_ secret(s), separated by spaces.")
        var secretEnv: String?
        @Flag(name: .customLong("generate"), help: "Generate a new secret and print it once (give it to the receiver).") var generate = false

        func run() async throws {
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else { throw ValidationError("the URL must start with https:// or http://") }
            var secrets: [String] = []
            if let secretEnv {
                guard let raw = ProcessInfo.processInfo.environment[secretEnv], !raw.isEmpty else {
                    throw ValidationError("the environment variable \(secretEnv) is not set")
                }
                secrets = raw.split(separator: " ").map(String.init)
                guard secrets.allSatisfy({ WebhookSecret($0) != nil }), (1...5).contains(secrets.count) else {
                    throw ValidationError("\(secretEnv) must hold 1–5 whsec_ secrets (base64 after the prefix), separated by spaces")
                }
            }
            if generate {
                var bytes = [UInt8](repeating: 0, count: 32)
                var generator = SystemRandomNumberGenerator()
                for index in bytes.indices { bytes[index] = UInt8.random(in: .min ... .max, using: &generator) }
                guard let secret = WebhookSecret(bytes: bytes) else { throw ValidationError("could not make a secret") }
                secrets.insert(secret.encoded, at: 0)
                print(secret.encoded)
            }
            guard !secrets.isEmpty else { throw ValidationError("give --secret-env VAR or --generate") }
            let count = secrets.count, chosen = secrets
            try await database.withDatabase { try await WebhookEndpointStore(database: $0).set(url: url, secrets: chosen) }
            FileHandle.standardError.write(Data("\(url): \(count) secret(s) set, endpoint enabled\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the endpoints (never their secrets).")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let endpoints = try await database.withDatabase { try await WebhookEndpointStore(database: $0).list() }
            for e in endpoints {
                let state = e.disabledAt.map { "disabled since \(Timestamp.format($0)): \(e.disabledReason ?? "")" } ?? "enabled"
                print("\(e.url)\t\(e.secrets.count) secret(s)\t\(state)")
            }
            if endpoints.isEmpty { print("no webhook endpoints") }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable an endpoint that was disabled because it answered 410 Gone.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The endpoint's URL.") var url: String

        func run() async throws {
            try await reportingRefusals {
                guard try await database.withDatabase({ try await WebhookEndpointStore(database: $0).enable(url: url) }) else {
                    throw DomainError(.webhookEndpointNotFound, .notFound, "no webhook endpoint \(url)")
                }
                print("\(url) enabled")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an endpoint and its secrets: its notifications fail from then on.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The endpoint's URL.") var url: String

        func run() async throws {
            try await reportingRefusals {
                guard try await database.withDatabase({ try await WebhookEndpointStore(database: $0).remove(url: url) }) else {
                    throw DomainError(.webhookEndpointNotFound, .notFound, "no webhook endpoint \(url)")
                }
                print("\(url) removed")
            }
        }
    }
}

extension DomainError.Code {
    /// No webhook endpoint with that URL is registered.
    static let webhookEndpointNotFound: Self = "webhook_endpoint_not_found"
}
