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
            SELECT to_char(day, 'YYYY-MM-DD'), source, outcome, sum(signals)::bigint FROM signal_statistics_view
            WHERE tenant_id = \(tenant.rawValue) AND day BETWEEN \(from.description)::date AND \(to.description)::date
            GROUP BY day, source, outcome
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

/// The number of signals of one tenant, day, source, severity and outcome (`signal_statistics_view`), for reports.
public struct SignalSeverityStatisticsRow: Sendable, Equatable, Codable {
    /// The calendar day in Europe/Amsterdam on which the signals were received.
    public var day: CalendarDate
    public var source: SignalSource
    /// The severity when received (for an update: the severity it was updated to).
    public var severity: Severity
    public var outcome: SignalOutcome
    public var signals: Int64

    public init(day: CalendarDate, source: SignalSource, severity: Severity, outcome: SignalOutcome, signals: Int64) {
        self.day = day
        self.source = source
        self.severity = severity
        self.outcome = outcome
        self.signals = signals
    }
}

extension ReadModels {
    /// The tenant's signal counts for the days `from` … `to` (inclusive, Europe/Amsterdam), by day, source, severity
    /// and outcome.
    public func signalStatisticsBySeverity(tenant: TenantID, from: CalendarDate, to: CalendarDate) async throws -> [SignalSeverityStatisticsRow] {
        let rows = try await database.client.query(
            """
            SELECT to_char(day, 'YYYY-MM-DD'), source, severity, outcome, signals FROM signal_statistics_view
            WHERE tenant_id = \(tenant.rawValue) AND day BETWEEN \(from.description)::date AND \(to.description)::date
            ORDER BY day, source, severity, outcome
            """, logger: logger)
        var out: [SignalSeverityStatisticsRow] = []
        for try await (day, source, severity, outcome, signals) in rows.decode((String, String, String, String, Int64).self) {
            guard let day = CalendarDate(day), let source = SignalSource(rawValue: source), let severity = Severity(rawValue: severity),
                let outcome = SignalOutcome(rawValue: outcome)
            else { continue }
            out.append(SignalSeverityStatisticsRow(day: day, source: source, severity: severity, outcome: outcome, signals: signals))
        }
        return out
    }
}
