import Foundation
import MDRDomain
import PostgresNIO

/// Per tenant, day (Europe/Amsterdam), source and outcome: how many signals intake filtered without appending them
/// (`signal_filter_counts`, migration 0011). Duplicates and malformed signals leave no event, so the report's noise
/// figures would otherwise miss them.
public struct FilteredSignalCount: Sendable, Equatable {
    public enum Outcome: String, Sendable, CaseIterable {
        case duplicate
        case rejected
    }

    public var day: CalendarDate
    /// nil: a malformed signal whose source could not be read.
    public var source: SignalSource?
    public var outcome: Outcome
    public var signals: Int64

    public init(day: CalendarDate, source: SignalSource?, outcome: Outcome, signals: Int64) {
        self.day = day
        self.source = source
        self.outcome = outcome
        self.signals = signals
    }
}

extension EventStore {
    /// Adds `counts` to the tenant's filtered-signal counters, in one statement.
    public func addFilteredSignals(tenant: TenantID, _ counts: [FilteredSignalCount]) async throws {
        let counts = counts.filter { $0.signals > 0 }
        guard !counts.isEmpty else { return }
        try await database.client.query(
            """
            INSERT INTO signal_filter_counts (tenant_id, day, source, outcome, signals)
            SELECT \(tenant.rawValue), u.day::date, u.source, u.outcome, u.signals
            FROM unnest(\(counts.map(\.day.description)), \(counts.map { $0.source?.rawValue ?? "unknown" }),
                        \(counts.map(\.outcome.rawValue)), \(counts.map(\.signals))) AS u (day, source, outcome, signals)
            ON CONFLICT (tenant_id, day, source, outcome) DO UPDATE SET signals = signal_filter_counts.signals + EXCLUDED.signals
            """, logger: logger)
    }

    /// The tenant's filtered-signal counts for the days `from` … `to` (inclusive).
    public func filteredSignals(tenant: TenantID, from: CalendarDate, to: CalendarDate) async throws -> [FilteredSignalCount] {
        let rows = try await database.client.query(
            """
            SELECT to_char(day, 'YYYY-MM-DD'), source, outcome, signals FROM signal_filter_counts
            WHERE tenant_id = \(tenant.rawValue) AND day BETWEEN \(from.description)::date AND \(to.description)::date
            ORDER BY day, source, outcome
            """, logger: logger)
        var counts: [FilteredSignalCount] = []
        for try await (day, source, outcome, signals) in rows.decode((String, String, String, Int64).self) {
            guard let day = CalendarDate(day), let outcome = FilteredSignalCount.Outcome(rawValue: outcome) else { continue }
            counts.append(FilteredSignalCount(day: day, source: SignalSource(rawValue: source), outcome: outcome, signals: signals))
        }
        return counts
    }
}
