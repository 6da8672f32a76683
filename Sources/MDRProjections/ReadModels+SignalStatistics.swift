import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

/// The number of signals of one tenant, day, source and outcome (`signal_statistics_view`).
public struct SignalStatisticsRow: Sendable, Equatable, Codable {
    /// The calendar day in Europe/Amsterdam on which the signals were received.
    public var day: CalendarDate
    public var source: SignalSource
    public var outcome: SignalOutcome
    public var signals: Int64
}

extension ReadModels {
    /// The tenant's signal counts for the days `from` … `to` (inclusive, Europe/Amsterdam), by day, source and outcome.
    public func signalStatistics(tenant: TenantID, from: CalendarDate, to: CalendarDate) async throws -> [SignalStatisticsRow] {
        let rows = try await database.client.query(
            """
            SELECT to_char(day, 'YYYY-MM-DD'), source, outcome, signals FROM signal_statistics_view
            WHERE tenant_id = \(tenant.rawValue) AND day BETWEEN \(from.description)::date AND \(to.description)::date
            ORDER BY day, source, outcome
            """, logger: logger)
        var out: [SignalStatisticsRow] = []
        for try await (day, source, outcome, signals) in rows.decode((String, String, String, Int64).self) {
            guard let day = CalendarDate(day), let source = SignalSource(rawValue: source), let outcome = SignalOutcome(rawValue: outcome)
            else { continue }
            out.append(SignalStatisticsRow(day: day, source: source, outcome: outcome, signals: signals))
        }
        return out
    }
}
