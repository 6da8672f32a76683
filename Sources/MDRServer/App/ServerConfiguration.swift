import Foundation
import MDRApplication
import MDRConnectors
import MDRResponse
import MDRNotify
import MDRStore
import MDRSyslog

/// What one instance runs (`mdr serve --role`, `MDR_ROLE`): everything, or the API apart from the background work so
/// that each can be scaled on its own (docs/operations.md, "Several instances").
public enum InstanceRole: String, Sendable, CaseIterable {
    /// The API, the syslog listener and every background loop (one instance, or several alike).
    case all
    /// The HTTP API and the syslog listener: what a load balancer sends requests to. No background loop.
    case api
    /// The pipeline (correlator, notifier's and responder's planners, views), the SLA clock, the responder and the
    /// delivery workers; over HTTP only `/health/live`, `/health/ready`, `/metrics` and `/openapi.yaml`.
    case workers

    var servesAPI: Bool { self != .workers }
    var runsWorkers: Bool { self != .api }
}

/// How `MDRServerApp` runs: where it listens, which database it uses, and its limits.
public struct ServerConfiguration: Sendable {
    /// What this instance runs (`MDR_ROLE`; default `all`).
    public var role: InstanceRole = .all
    /// The address to listen on (`127.0.0.1` by default: put a TLS-terminating proxy in front for other hosts).
    public var host: String
    /// The TCP port to listen on.
    public var port: Int
    /// The PostgreSQL database (`MDR_DATABASE_URL`).
    public var database: DatabaseConfiguration
    /// How the Graph alerts connector pulls (`mdr graph set` connects a tenant).
    public var graphConnector = GraphAlertPoller.Configuration()
    /// The login of customers' and connectors' requests (`MDR_TENANT_DATABASE_URL`), confined to one tenant by itself;
    /// nil: they use the service's connections, switched to the tenant-scoped role.
    public var tenantDatabase: DatabaseConfiguration?
    /// The largest request body accepted; larger ones are answered `413 payload_too_large`.
    public var maxBodyBytes: Int
    /// How often the background processors look for work when no wake-up arrived (the polling fallback).
    public var pollInterval: Duration
    /// How long one request may wait for the database before it is answered `503 unavailable`.
    public var requestTimeout: Duration = .seconds(10)
    /// The live feed (`GET /v1/stream`): how often an open stream looks for new events, and how often it sends a
    /// heartbeat comment when there were none (so that proxies keep the connection and clients notice a dead one).
    public var streamPollInterval: Duration = .milliseconds(500)
    public var streamHeartbeat: Duration = .seconds(15)
    /// How long `MDRServerApp.run` waits for the database to answer at start before giving up.
    public var startupTimeout: Duration = .seconds(60)
    /// The syslog listener (`MDR_SYSLOG_PORT`, `MDR_SYSLOG_HOST`); nil (the default) runs none.
    public var syslog: SyslogListenerConfiguration? = nil
    /// The notifier and its delivery workers (Dynamic's routes, the e-mail server, …); nil runs none.
    public var notifications: NotificationSettings? = nil
    /// The most signals one ingest batch may hold (`MDR_MAX_BATCH_SIGNALS`); larger batches are answered
    /// `413 batch_too_large` and store nothing.
    public var maxBatchSignals: Int = 5000
    /// How many ingest requests each token may send (`MDR_INGEST_RATE_PER_TOKEN`, `MDR_INGEST_BURST_PER_TOKEN`); more
    /// are answered `429 rate_limited` with `Retry-After`. Kept in memory per instance. nil: no limit.
    public var ingestRateLimit: IngestRateLimit? = .standard
    /// Admission control (`MDR_INGEST_MAX_LAG_SECONDS`; `mdr serve`'s default 1, 0 turns it off): while the pipeline is
    /// more than this behind a tenant's log, its ingest is answered `503 ingest_backpressure` with `Retry-After`. nil (the
    /// default of a configuration made in code, e.g. the tests'): off.
    public var ingestMaxLag: Duration? = nil
    /// How often the pipeline's lag is sampled for admission control.
    public var ingestLagSampleInterval: Duration = .milliseconds(250)
    /// The responder's intervals: `MDR_EDR_ACTION_TIMEOUT` (seconds, default 600) and `MDR_EDR_POLL_INTERVAL`
    /// (seconds between status checks of a submitted EDR action, default 10), read from the environment.
    public var responder: Responder.Configuration = ServerConfiguration.responderConfiguration(ProcessInfo.processInfo.environment)
    /// OpenID Connect bearer JWTs for people (`MDR_OIDC_*`, `OIDCConfiguration.fromEnvironment`); nil: only `mdr_…`
    /// tokens are accepted.
    public var oidc: OIDCConfiguration? = nil
    /// The clock of the server's own checks (a token's expiry, the OIDC key set's age and refetch interval): the real
    /// one, or a test's that moves only when told to.
    public var time: any TimeSource = SystemTime()

    /// The configuration of one instance; `requestTimeout` and `startupTimeout` keep their defaults unless set.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, database: DatabaseConfiguration, maxBodyBytes: Int = 8 << 20,
        pollInterval: Duration = .seconds(1)
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.maxBodyBytes = maxBodyBytes
        self.pollInterval = pollInterval
    }
}

extension ServerConfiguration {
    /// The responder's configuration from `MDR_EDR_ACTION_TIMEOUT` and `MDR_EDR_POLL_INTERVAL` (whole seconds); values
    /// that are not positive numbers are ignored (the defaults apply).
    public static func responderConfiguration(_ environment: [String: String]) -> Responder.Configuration {
        var configuration = Responder.Configuration()
        if let raw = environment["MDR_EDR_ACTION_TIMEOUT"], let seconds = Int(raw), seconds > 0 {
            configuration.actionTimeout = .seconds(seconds)
        }
        if let raw = environment["MDR_EDR_POLL_INTERVAL"], let seconds = Int(raw), seconds > 0 {
            configuration.statusInterval = .seconds(seconds)
        }
        return configuration
    }
}

extension ServerConfiguration {
    /// The responder's configuration, looking for new requests as often as the other processors.
    var responderWithPollInterval: Responder.Configuration {
        var configuration = responder
        configuration.pollInterval = pollInterval
        return configuration
    }
}

extension ServerConfiguration {
    /// A token bucket per token on the ingest endpoints: `requestsPerSecond` on average, `burst` at once.
    public struct IngestRateLimit: Sendable, Equatable {
        /// The sustained rate, refilled evenly.
        public var requestsPerSecond: Double
        /// The most requests a token may send at once (the bucket's size).
        public var burst: Int

        public init(requestsPerSecond: Double, burst: Int) {
            self.requestsPerSecond = requestsPerSecond
            self.burst = burst
        }

        /// 20 requests a second with bursts of 40: far above what a connector posting batches needs.
        public static let standard = IngestRateLimit(requestsPerSecond: 20, burst: 40)
    }

    /// A setting of the environment that is not usable; the message names the variable.
    public struct InvalidSetting: Error, CustomStringConvertible {
        public var description: String
    }

    /// `MDR_MAX_BATCH_SIGNALS` (a positive whole number; default 5000).
    public static func maxBatchSignals(_ environment: [String: String]) throws -> Int {
        guard let raw = environment["MDR_MAX_BATCH_SIGNALS"], !raw.isEmpty else { return 5000 }
        guard let value = Int(raw), value > 0 else {
            throw InvalidSetting(description: "MDR_MAX_BATCH_SIGNALS must be a positive number of signals, not '\(raw)'")
        }
        return value
    }

    /// `MDR_INGEST_RATE_PER_TOKEN` (requests per second, default 20; `0` turns the limit off) and
    /// `MDR_INGEST_BURST_PER_TOKEN` (default twice the rate, at least 1).
    public static func ingestRateLimit(_ environment: [String: String]) throws -> IngestRateLimit? {
        var rate = IngestRateLimit.standard.requestsPerSecond
        if let raw = environment["MDR_INGEST_RATE_PER_TOKEN"], !raw.isEmpty {
            guard let value = Double(raw), value.isFinite, value >= 0 else {
                throw InvalidSetting(description: "MDR_INGEST_RATE_PER_TOKEN must be a number of requests per second (0: no limit), not '\(raw)'")
            }
            if value == 0 { return nil }
            rate = value
        }
        var burst = max(1, Int((rate * 2).rounded(.up)))
        if let raw = environment["MDR_INGEST_BURST_PER_TOKEN"], !raw.isEmpty {
            guard let value = Int(raw), value > 0 else {
                throw InvalidSetting(description: "MDR_INGEST_BURST_PER_TOKEN must be a positive number of requests, not '\(raw)'")
            }
            burst = value
        }
        return IngestRateLimit(requestsPerSecond: rate, burst: burst)
    }

    /// `MDR_INGEST_MAX_LAG_SECONDS` (default 1; 0 turns admission control off).
    public static func ingestMaxLag(_ environment: [String: String]) throws -> Duration? {
        guard let raw = environment["MDR_INGEST_MAX_LAG_SECONDS"], !raw.isEmpty else { return .seconds(1) }
        guard let value = Double(raw), value.isFinite, value >= 0 else {
            throw InvalidSetting(description: "MDR_INGEST_MAX_LAG_SECONDS must be a number of seconds (0: no admission control), not '\(raw)'")
        }
        return value == 0 ? nil : .milliseconds(Int64((value * 1000).rounded()))
    }
}
