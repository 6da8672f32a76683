import MDRStore
import MDRSyslog

/// How `MDRServerApp` runs: where it listens, which database it uses, and its limits.
public struct ServerConfiguration: Sendable {
    /// The address to listen on (`127.0.0.1` by default: put a TLS-terminating proxy in front for other hosts).
    public var host: String
    /// The TCP port to listen on.
    public var port: Int
    /// The PostgreSQL database (`MDR_DATABASE_URL`).
    public var database: DatabaseConfiguration
    /// The largest request body accepted; larger ones are answered `413 payload_too_large`.
    public var maxBodyBytes: Int
    /// How often the background processors look for work when no wake-up arrived (the polling fallback).
    public var pollInterval: Duration
    /// How long one request may wait for the database before it is answered `503 unavailable`.
    public var requestTimeout: Duration = .seconds(10)
    /// How long `MDRServerApp.run` waits for the database to answer at start before giving up.
    public var startupTimeout: Duration = .seconds(60)
    /// The syslog listener (`MDR_SYSLOG_PORT`, `MDR_SYSLOG_HOST`); nil (the default) runs none.
    public var syslog: SyslogListenerConfiguration? = nil

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
