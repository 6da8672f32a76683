import Foundation

/// A day of the week, ISO numbering (Monday = 1 … Sunday = 7).
public enum Weekday: Int, Sendable, Codable, CaseIterable, Comparable {
    case monday = 1, tuesday, wednesday, thursday, friday, saturday, sunday

    public static func < (a: Weekday, b: Weekday) -> Bool { a.rawValue < b.rawValue }
}

extension CalendarDate {
    /// Days since 1970-01-01 (proleptic Gregorian).
    public var dayNumber: Int {
        Int(CivilDays.days(year: Int64(year), month: Int64(month), day: Int64(day)))
    }

    /// The date `dayNumber` days after 1970-01-01; nil outside the years `CalendarDate` accepts.
    public init?(dayNumber: Int) {
        let civil = CivilDays.civil(fromDays: Int64(dayNumber))
        self.init(year: Int(civil.year), month: Int(civil.month), day: Int(civil.day))
    }

    /// The date `days` days later (earlier when negative).
    ///
    /// Traps outside the years 1900…9999, which no contract, holiday or deadline of this service reaches.
    public func adding(days: Int) -> CalendarDate {
        guard let date = CalendarDate(dayNumber: dayNumber + days) else {
            preconditionFailure("date \(self) + \(days) days is outside 1900…9999")
        }
        return date
    }

    /// The day of the week.
    public var weekday: Weekday {
        // 1970-01-01 was a Thursday (ISO 4).
        let iso = ((dayNumber + 3) % 7 + 7) % 7 + 1
        return Weekday(rawValue: iso)!
    }
}
