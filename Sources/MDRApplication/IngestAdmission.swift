import Foundation
import Logging
import MDRDomain
import MDRStore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Admission control for ingest: while the pipeline is more than `bound` behind a tenant's log, new signals for that
/// tenant are refused (`503 ingest_backpressure` with `Retry-After`; the syslog listener holds TCP senders back and
/// counts the UDP datagrams it drops), so that what is accepted is correlated within the bound instead of piling up
/// behind a backlog that would delay every incident, and every triage timer, for minutes.
///
/// "Behind" is the age of the oldest event a working consumer of the pipeline has not handled (a parked consumer is
/// left out: it may wait for a fix for hours). It is sampled from the database every `interval` by `run()`, so every
/// instance sees the same backlog and a request costs no query.
public final class IngestAdmission: Service, Sendable {
    /// The lag above which a tenant's ingest is refused.
    public let bound: Duration
    /// How often the lag is sampled.
    public let interval: Duration
    let consumers: [String]
    let database: Database
    let logger: Logger
    /// The lags of the newest sample applied, with the numbers of the samples begun and applied: a sample that was begun
    /// before another but answered after it (a slow query; a refresh beside the periodic one) is dropped, never applied
    /// over the newer one.
    private let samples = Mutex<(lags: [TenantID: Double], begun: UInt64, applied: UInt64)>(([:], 0, 0))

    public init(bound: Duration, consumers: [String], database: Database, interval: Duration = .milliseconds(250), logger: Logger) {
        self.bound = bound
        self.interval = interval
        self.consumers = consumers
        self.database = database
        self.logger = logger
    }

    public func run() async throws {
        await RoundLoop.run(wakeup: Wakeup(), pollInterval: interval, logger: logger, what: "ingest admission") {
            try await self.refresh()
            return .idle
        }
    }

    /// Samples every tenant's lag now.
    public func refresh() async throws {
        let number = samples.withLock { state in
            state.begun += 1
            return state.begun
        }
        let rows = try await database.client.query(
            """
            SELECT c.tenant_id, max(extract(epoch FROM now() - e.recorded_at))::float8
            FROM consumer_checkpoints c
            JOIN tenant_heads h ON h.tenant_id = c.tenant_id AND h.last_position > c.position
            JOIN events e ON e.tenant_id = c.tenant_id AND e.position = c.position + 1
            WHERE c.consumer = ANY(\(consumers)::text[]) AND c.failures = 0
            GROUP BY c.tenant_id
            """, logger: logger)
        var sampled: [TenantID: Double] = [:]
        for try await (tenant, seconds) in rows.decode((String, Double).self) {
            if let id = TenantID(rawValue: tenant) { sampled[id] = seconds }
        }
        samples.withLock { state in
            guard number > state.applied else { return }
            state.lags = sampled
            state.applied = number
        }
    }

    /// nil when ingest into `tenant` is admitted; else the whole seconds (1 to 30) to wait before sending again.
    public func retryAfter(_ tenant: TenantID) -> Int? {
        guard let lag = samples.withLock({ $0.lags[tenant] }) else { return nil }
        let limit = Double(bound.components.seconds) + Double(bound.components.attoseconds) / 1e18
        guard lag > limit else { return nil }
        return min(30, max(1, Int((lag - limit).rounded(.up))))
    }

    /// The lag last sampled for `tenant`, in seconds (0 when it is caught up).
    public func lag(_ tenant: TenantID) -> Double {
        samples.withLock { $0.lags[tenant] } ?? 0
    }
}
