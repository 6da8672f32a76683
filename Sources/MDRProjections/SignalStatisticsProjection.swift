import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

/// Signal statistics per tenant, day, source and outcome (`signal_statistics_view`), for reports and billing.
/// Outcomes counted: `accepted`, `updated` and `suppressed` (the domain's `SignalOutcome`).
///
/// The day is the calendar day in Europe/Amsterdam of the time the signal was received (not when the source saw
/// it). Duplicates (the same alert again, unchanged) append no event, so they are not counted: the ingest response
/// reports them, the log does not.
public struct SignalStatisticsProjection: Projection {
    public let name = "signal-statistics"
    public let version = 1
    public let eventTypes = [SignalIngested.eventType, SignalUpdated.eventType]

    public init() {}

    /// Maps an event to what is counted: the source, the outcome and when the signal was received.
    static func count(_ event: DomainEvent) -> (source: SignalSource, outcome: SignalOutcome, at: Date)? {
        switch event {
        case .signalIngested(let e): (e.signal.source, e.suppressedBy == nil ? .accepted : .suppressed, e.receivedAt)
        case .signalUpdated(let e): (e.source, .updated, e.receivedAt)
        default: nil
        }
    }

    public func apply(_ events: [RecordedEvent], tenant: TenantID, on connection: PostgresConnection) async throws {
        var sources: [String] = []
        var outcomes: [String] = []
        var times: [Date] = []
        for recorded in events {
            guard let counted = Self.count(try recorded.decoded()) else { continue }
            sources.append(counted.source.rawValue)
            outcomes.append(counted.outcome.rawValue)
            times.append(counted.at)
        }
        guard !times.isEmpty else { return }
        // Grouped in SQL, so the day boundary is PostgreSQL's Europe/Amsterdam (daylight saving included).
        try await connection.query(
            """
            INSERT INTO signal_statistics_view AS v (tenant_id, day, source, outcome, signals)
            SELECT \(tenant.rawValue), (u.at AT TIME ZONE 'Europe/Amsterdam')::date AS day, u.source, u.outcome, count(*)
            FROM unnest(\(sources)::text[], \(outcomes)::text[], \(times)::timestamptz[]) AS u(source, outcome, at)
            GROUP BY day, u.source, u.outcome
            ON CONFLICT (tenant_id, day, source, outcome) DO UPDATE SET signals = v.signals + EXCLUDED.signals
            """, logger: Logger.projections)
    }

    public func reset(on connection: PostgresConnection) async throws {
        try await connection.query("TRUNCATE signal_statistics_view", logger: Logger.projections)
    }
}
