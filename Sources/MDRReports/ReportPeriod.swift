import Foundation
import MDRDomain

/// The days a report covers: `from` … `to` inclusive, calendar dates in Europe/Amsterdam (the customer's days, so a
/// signal received at 00:30 Amsterdam time on 1 December is December's, although it is still 30 November in UTC).
public struct ReportPeriod: Hashable, Sendable, Codable {
    /// The longest period a report covers: a year, leap day included. Longer requests are refused, not truncated.
    public static let maximumDays = 366

    public let from: CalendarDate
    public let to: CalendarDate

    /// A period of `from` … `to`; refused (`invalid_period`) when `to` is before `from` or it is longer than a year.
    public init(from: CalendarDate, to: CalendarDate) throws(DomainError) {
        guard from <= to else {
            throw DomainError(.invalidPeriod, .invalid, "the period's end \(to) is before its start \(from): swap them")
        }
        self.from = from
        self.to = to
        guard days <= Self.maximumDays else {
            throw DomainError(.invalidPeriod, .invalid, "the period \(from) … \(to) is \(days) days: a report covers at most \(Self.maximumDays)")
        }
    }

    /// The calendar month of `text` (`YYYY-MM`); refused (`invalid_period`) when it is not one.
    public static func month(_ text: String) throws(DomainError) -> ReportPeriod {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
            parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
            let year = Int(parts[0]), let month = Int(parts[1]),
            let first = CalendarDate(year: year, month: month, day: 1),
            let last = CalendarDate(year: year, month: month, day: CalendarDate.daysIn(month: month, year: year))
        else {
            throw DomainError(.invalidPeriod, .invalid, "'\(text.prefix(40))' is not a month: use YYYY-MM, e.g. 2026-11")
        }
        return try ReportPeriod(from: first, to: last)
    }

    /// The period `from` … `to` given as `YYYY-MM-DD` texts; refused (`invalid_period`) when either is not a date.
    public static func days(from: String, to: String) throws(DomainError) -> ReportPeriod {
        guard let start = CalendarDate(from) else {
            throw DomainError(.invalidPeriod, .invalid, "from: '\(from.prefix(40))' is not a date: use YYYY-MM-DD, e.g. 2026-11-01")
        }
        guard let end = CalendarDate(to) else {
            throw DomainError(.invalidPeriod, .invalid, "to: '\(to.prefix(40))' is not a date: use YYYY-MM-DD, e.g. 2026-11-30")
        }
        return try ReportPeriod(from: start, to: end)
    }

    /// The period a request names: a `month`, or `from` and `to` together, not both ways; refused (`invalid_period`)
    /// otherwise, with what to give instead. The command line and the API read their options with this.
    public static func requested(month: String?, from: String?, to: String?) throws(DomainError) -> ReportPeriod {
        switch (month, from, to) {
        case (let month?, nil, nil): return try Self.month(month)
        case (nil, let from?, let to?): return try days(from: from, to: to)
        case (nil, nil, nil):
            throw DomainError(.invalidPeriod, .invalid, "no period: give a month (2026-11), or from and to (2026-11-01 and 2026-11-30)")
        case (_?, _, _):
            throw DomainError(.invalidPeriod, .invalid, "give a month, or from and to, not both")
        default:
            throw DomainError(.invalidPeriod, .invalid, "from and to go together: give both (2026-11-01 and 2026-11-30)")
        }
    }

    /// Whether the period is exactly one calendar month.
    public var isCalendarMonth: Bool {
        from.day == 1 && from.year == to.year && from.month == to.month && to.day == CalendarDate.daysIn(month: to.month, year: to.year)
    }

    /// The number of days, both ends included.
    public var days: Int { to.dayNumber - from.dayNumber + 1 }

    /// Every day of the period, in order.
    public var dates: [CalendarDate] { (0..<days).map { from.adding(days: $0) } }

    /// The instants the period spans, `[start, end)`: midnight in Amsterdam at the start of `from`, and at the end of
    /// `to` (so 23 or 25 hours for a day that changes daylight saving time).
    public var instants: (start: Date, end: Date) {
        (BusinessClock.standard.startOfDay(from), BusinessClock.standard.startOfDay(after: to))
    }
}

extension DomainError.Code {
    /// A report's period is not a month or a date range of at most a year (`ReportPeriod`).
    public static let invalidPeriod: Self = "invalid_period"
}
