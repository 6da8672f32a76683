import ArgumentParser
import Foundation
import Logging
import MDRNotify
import MDRServer
import MDRStore
import MDRSyslog

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API and the background processors until SIGTERM or SIGINT.",
        discussion: "Applies missing migrations at start. Listens on 127.0.0.1:8080 unless told otherwise.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The address to listen on (env: MDR_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "The port to listen on (env: MDR_PORT; default 8080).") var port: Int?
    @Option(name: .customLong("max-body-bytes"), help: "The largest request body accepted (env: MDR_MAX_BODY_BYTES; default 8 MiB).") var maxBodyBytes: Int?
    @Option(name: .customLong("syslog-port"), help: "Receive syslog (UDP and TCP) on this port (env: MDR_SYSLOG_PORT; default: no syslog listener).")
    var syslogPort: Int?
    @Option(help: "What this instance runs: all, api (the API and syslog) or workers (the background work) (env: MDR_ROLE; default all).")
    var role: String?
    @Option(name: .customLong("syslog-host"), help: "The address the syslog listener listens on (env: MDR_SYSLOG_HOST; default 0.0.0.0).")
    var syslogHost: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let host = host ?? env["MDR_HOST"] ?? "127.0.0.1"
        let port = port ?? (env["MDR_PORT"].map { Int($0) ?? -1 }) ?? 8080
        guard (1...65535).contains(port) else {
            throw ValidationError("the port must be 1–65535 (--port or MDR_PORT)")
        }
        let maxBody = maxBodyBytes ?? (env["MDR_MAX_BODY_BYTES"].map { Int($0) ?? -1 }) ?? (8 << 20)
        guard maxBody > 0 else {
            throw ValidationError("--max-body-bytes (MDR_MAX_BODY_BYTES) must be a positive number of bytes")
        }
        var configuration = ServerConfiguration(host: host, port: port, database: try database.configuration(), maxBodyBytes: maxBody)
        let rawRole = role ?? env["MDR_ROLE"].flatMap { $0.isEmpty ? nil : $0 } ?? "all"
        guard let instanceRole = InstanceRole(rawValue: rawRole) else {
            throw ValidationError("the role must be all, api or workers (--role or MDR_ROLE), not '\(rawRole)'")
        }
        configuration.role = instanceRole
        if let raw = env["MDR_TENANT_DATABASE_URL"], !raw.isEmpty {
            do {
                configuration.tenantDatabase = try DatabaseConfiguration(url: raw)
            } catch {
                throw ValidationError("MDR_TENANT_DATABASE_URL: \(error)")
            }
        }
        do {
            configuration.maxBatchSignals = try ServerConfiguration.maxBatchSignals(env)
            configuration.ingestRateLimit = try ServerConfiguration.ingestRateLimit(env)
            configuration.ingestMaxLag = try ServerConfiguration.ingestMaxLag(env)
            configuration.oidc = try OIDCConfiguration.fromEnvironment(env)
        } catch let error as ServerConfiguration.InvalidSetting {
            throw ValidationError(error.description)
        }
        if let raw = syslogPort.map(String.init) ?? env["MDR_SYSLOG_PORT"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let syslogPort = Int(raw), (1...65535).contains(syslogPort) else {
                throw ValidationError("the syslog port must be 1–65535 (--syslog-port or MDR_SYSLOG_PORT)")
            }
            let syslogHost = syslogHost ?? env["MDR_SYSLOG_HOST"].flatMap({ $0.isEmpty ? nil : $0 }) ?? "0.0.0.0"
            configuration.syslog = SyslogListenerConfiguration(host: syslogHost, port: syslogPort)
        }
        do {
            configuration.notifications = try NotificationSettings.fromEnvironment(env, defaultLinkBase: "http://\(host):\(port)")
        } catch let error as NotificationSettings.Invalid {
            throw ValidationError(error.description)
        }
        let logger = try database.logger(default: .info)
        if configuration.notifications?.dynamicRoutes.isEmpty ?? true {
            logger.warning("no route to Dynamic is configured (MDR_DYNAMIC_WEBHOOK_URL, MDR_DYNAMIC_EMAIL): Dynamic is told nothing")
        }
        if let oidc = configuration.oidc {
            logger.info("accepting OpenID Connect bearer tokens", metadata: ["oidc.issuer": "\(oidc.issuer)", "oidc.audience": "\(oidc.audience)"])
        }
        if configuration.role == .workers, configuration.syslog != nil {
            logger.warning("MDR_SYSLOG_PORT is ignored by the workers role: the syslog listener runs on api (and all) instances")
        }
        logger.info("starting mdr", metadata: ["address": "\(host):\(port)", "role": "\(configuration.role.rawValue)"])
        try await MDRServerApp.run(configuration, logger: logger)
    }
}
