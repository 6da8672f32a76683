import Foundation

/// A wall-clock time of day (`08:00`), minute precision.
public struct TimeOfDay: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public let hour: Int
    public let minute: Int

    /// nil unless 00:00…23:59.
    public init?(hour: Int, minute: Int) {
        guard (0..<24).contains(hour), (0..<60).contains(minute) else { return nil }
        self.hour = hour
        self.minute = minute
    }

    /// Parses `HH:MM`.
    public init?(_ string: String) {
        let parts = string.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
            let h = Int(parts[0]), let m = Int(parts[1])
        else { return nil }
        self.init(hour: h, minute: m)
    }

    public var minutesSinceMidnight: Int { hour * 60 + minute }

    public var description: String {
        (hour < 10 ? "0\(hour)" : "\(hour)") + ":" + (minute < 10 ? "0\(minute)" : "\(minute)")
    }

    public static func < (a: TimeOfDay, b: TimeOfDay) -> Bool { a.minutesSinceMidnight < b.minutesSinceMidnight }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let value = TimeOfDay(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected a time of day as HH:MM"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// When the service desk is staffed: the days of the week and the wall-clock hours, in a named time zone.
///
/// Wall-clock hours in a named zone (never `TimeZone.current`): 08:00 stays 08:00 local on both sides of a
/// daylight-saving change.
public struct OfficeHours: Hashable, Sendable, Codable {
    /// An IANA zone name, e.g. `Europe/Amsterdam`.
    public let timeZoneIdentifier: String
    /// The days with office hours (before holidays are taken out).
    public let weekdays: Set<Weekday>
    /// Office hours start (inclusive).
    public let opens: TimeOfDay
    /// Office hours end (exclusive).
    public let closes: TimeOfDay

    /// Refused with `invalid_office_hours` for an unknown zone, no weekdays, or `opens` not before `closes`.
    public init(timeZoneIdentifier: String, weekdays: Set<Weekday>, opens: TimeOfDay, closes: TimeOfDay) throws(DomainError) {
        guard TimeZone(identifier: timeZoneIdentifier) != nil else {
            throw DomainError(.invalidOfficeHours, .invalid, "unknown time zone '\(timeZoneIdentifier)': use an IANA name such as Europe/Amsterdam")
        }
        guard !weekdays.isEmpty else {
            throw DomainError(.invalidOfficeHours, .invalid, "office hours need at least one weekday")
        }
        guard opens < closes else {
            throw DomainError(.invalidOfficeHours, .invalid, "office hours must open (\(opens)) before they close (\(closes)) on the same day")
        }
        self.timeZoneIdentifier = timeZoneIdentifier
        self.weekdays = weekdays
        self.opens = opens
        self.closes = closes
    }

    /// The default of `DOMAIN.md`: Monday–Friday 08:00–17:30, Europe/Amsterdam.
    public static let standard: OfficeHours = try! OfficeHours(
        timeZoneIdentifier: "Europe/Amsterdam", weekdays: [.monday, .tuesday, .wednesday, .thursday, .friday],
        opens: TimeOfDay(hour: 8, minute: 0)!, closes: TimeOfDay(hour: 17, minute: 30)!)

    /// The zone the hours are in.
    public var timeZone: TimeZone { TimeZone(identifier: timeZoneIdentifier)! }

    private enum CodingKeys: String, CodingKey { case timeZone, weekdays, opens, closes }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            timeZoneIdentifier: c.decode(String.self, forKey: .timeZone), weekdays: c.decode(Set<Weekday>.self, forKey: .weekdays),
            opens: c.decode(TimeOfDay.self, forKey: .opens), closes: c.decode(TimeOfDay.self, forKey: .closes))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(timeZoneIdentifier, forKey: .timeZone)
        try c.encode(weekdays.sorted(), forKey: .weekdays)
        try c.encode(opens, forKey: .opens)
        try c.encode(closes, forKey: .closes)
    }
}

/// A day a tenant takes off on top of the Dutch public holidays.
public enum TenantDayOff: Hashable, Sendable, Codable {
    /// One date.
    case date(CalendarDate)
    /// Goede Vrijdag (the Friday before Easter), every year.
    case goedeVrijdag

    /// Whether this day off falls on `date`.
    public func falls(on date: CalendarDate) -> Bool {
        switch self {
        case .date(let d): d == date
        case .goedeVrijdag: DutchPublicHoliday.easterSunday(date.year).adding(days: -2) == date
        }
    }
}

extension DomainError.Code {
    /// Office hours that cannot be used: unknown zone, no weekdays, or closing before opening.
    public static let invalidOfficeHours: Self = "invalid_office_hours"
}
