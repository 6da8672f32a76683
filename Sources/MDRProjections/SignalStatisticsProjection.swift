import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

/// Signal statistics per tenant, day, source, severity and outcome (`signal_statistics_view`), for reports and
/// billing. Outcomes counted: `accepted`, `updated` and `suppressed` (the domain's `SignalOutcome`). The severity is
/// the one the source gave when the signal was received, or for an update the one it was updated to.
///
/// The day is the calendar day in Europe/Amsterdam of the time the signal was received (not when the source saw
/// it). Duplicates (the same alert again, unchanged) append no event, so they are not counted: the ingest response
/// reports them, the log does not.
public struct SignalStatisticsProjection: Projection {
    public let name = "signal-statistics"
    public let version = 2  // 2: severity (migration 0009)
    public let eventTypes: Set<String>? = [SignalIngested.eventType, SignalUpdated.eventType]

    public init() {}

    /// Maps an event to what is counted: the source, the severity, the outcome and when the signal was received.
    static func count(_ event: DomainEvent) -> (source: SignalSource, severity: Severity, outcome: SignalOutcome, at: Date)? {
        switch event {
        case .signalIngested(let e): (e.signal.source, e.signal.severity, e.suppressedBy == nil ? .accepted : .suppressed, e.receivedAt)
        case .signalUpdated(let e): (e.source, e.severity, .updated, e.receivedAt)
        default: nil
        }
    }

    public func apply(_ events: [PipelineEvent], tenant: TenantID, on connection: PostgresConnection) async throws {
        var sources: [String] = []
        var severities: [String] = []
        var outcomes: [String] = []
        var times: [Date] = []
        for piped in events {
            guard let counted = Self.count(try piped.event()) else { continue }
            sources.append(counted.source.rawValue)
            severities.append(counted.severity.rawValue)
            outcomes.append(counted.outcome.rawValue)
            times.append(counted.at)
        }
        guard !times.isEmpty else { return }
        // Grouped in SQL, so the day boundary is PostgreSQL's Europe/Amsterdam (daylight saving included).
        try await connection.query(
            """
            INSERT INTO signal_statistics_view AS v (tenant_id, day, source, severity, outcome, signals)
            SELECT \(tenant.rawValue), (u.at AT TIME ZONE 'Europe/Amsterdam')::date AS day, u.source, u.severity, u.outcome, count(*)
            FROM unnest(\(sources)::text[], \(severities)::text[], \(outcomes)::text[], \(times)::timestamptz[])
                AS u(source, severity, outcome, at)
            GROUP BY day, u.source, u.severity, u.outcome
            ON CONFLICT (tenant_id, day, source, severity, outcome) DO UPDATE SET signals = v.signals + EXCLUDED.signals
            """, logger: Logger.projections)
    }

    public func reset(on connection: PostgresConnection) async throws {
        try await connection.query("TRUNCATE signal_statistics_view", logger: Logger.projections)
    }
}
