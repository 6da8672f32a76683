import Foundation

/// Office hours minus the Dutch public holidays and a tenant's own days off: the clock of business-hour SLA targets
/// and of the notifier's "next office-hours start".
///
/// Every office-hours period is computed from wall-clock times in the named zone, day by day, so a daylight-saving
/// change moves no opening, closing or deadline: 08:00 Amsterdam is 07:00 UTC in summer and 08:00 UTC… rather 07:00
/// UTC in winter, whatever the instant the computation starts from. Business time is counted in real seconds within
/// those periods.
public struct BusinessClock: Hashable, Sendable {
    public let officeHours: OfficeHours
    /// The tenant's days off on top of the Dutch public holidays.
    public let daysOff: Set<TenantDayOff>
    private let calendar: Calendar

    public init(officeHours: OfficeHours = .standard, daysOff: Set<TenantDayOff> = []) {
        self.officeHours = officeHours
        self.daysOff = daysOff
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = officeHours.timeZone
        self.calendar = calendar
    }

    /// The default clock of `DOMAIN.md`: Monday–Friday 08:00–17:30 Europe/Amsterdam, Dutch public holidays off.
    public static let standard = BusinessClock()

    // MARK: Days

    /// The date of `instant` on the wall clock of the office-hours zone.
    public func localDate(of instant: Date) -> CalendarDate {
        let c = calendar.dateComponents([.year, .month, .day], from: instant)
        return CalendarDate(year: c.year!, month: c.month!, day: c.day!)!
    }

    /// Midnight at the start of `date` on the wall clock of the office-hours zone: where a calendar day (and with it a
    /// month, a billing period or a report's period) begins.
    public func startOfDay(_ date: CalendarDate) -> Date {
        calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day))!
    }

    /// Midnight at the end of `date` (the start of the next day): 23 or 25 hours after `startOfDay` on a day that
    /// changes daylight saving time. Defined for the last day `CalendarDate` knows, too.
    public func startOfDay(after date: CalendarDate) -> Date {
        calendar.date(byAdding: .day, value: 1, to: startOfDay(date))!
    }

    /// Whether `date` is a Dutch public holiday or one of the tenant's days off.
    public func isHoliday(_ date: CalendarDate) -> Bool {
        DutchPublicHoliday.holiday(on: date) != nil || daysOff.contains { $0.falls(on: date) }
    }

    /// Whether `date` has office hours: one of the office weekdays, and not a holiday.
    public func isBusinessDay(_ date: CalendarDate) -> Bool {
        officeHours.weekdays.contains(date.weekday) && !isHoliday(date)
    }

    /// The first business day strictly after `date`.
    public func nextBusinessDay(after date: CalendarDate) -> CalendarDate {
        var day = date.adding(days: 1)
        // Terminates: office hours have at least one weekday and holidays never fill a whole week.
        while !isBusinessDay(day) { day = day.adding(days: 1) }
        return day
    }

    /// The office-hours period of `date` as instants, or nil when `date` is not a business day.
    public func officeHours(on date: CalendarDate) -> DateInterval? {
        guard isBusinessDay(date) else { return nil }
        return DateInterval(start: instant(date, officeHours.opens), end: instant(date, officeHours.closes))
    }

    private func instant(_ date: CalendarDate, _ time: TimeOfDay) -> Date {
        let components = DateComponents(year: date.year, month: date.month, day: date.day, hour: time.hour, minute: time.minute)
        return calendar.date(from: components)!
    }

    // MARK: Instants

    /// Whether `instant` falls within office hours (opening inclusive, closing exclusive).
    public func isWithinOfficeHours(_ instant: Date) -> Bool {
        guard let period = officeHours(on: localDate(of: instant)) else { return false }
        return period.start <= instant && instant < period.end
    }

    /// The first office-hours opening strictly after `instant`. Within office hours that is the next business
    /// day's opening; the notifier sends at once within office hours and at this instant otherwise.
    public func nextOfficeHoursStart(after instant: Date) -> Date {
        var day = localDate(of: instant)
        while true {
            if let period = officeHours(on: day), period.start > instant { return period.start }
            day = day.adding(days: 1)
        }
    }

    /// The instant at which `seconds` of business time have passed since `start`. Time before the first opening
    /// counts nothing; a deadline that uses up a period exactly is that period's closing, not the next opening.
    public func adding(businessSeconds seconds: TimeInterval, to start: Date) -> Date {
        precondition(seconds >= 0, "business time to add must not be negative")
        guard seconds > 0 else { return start }
        var remaining = seconds
        var day = localDate(of: start)
        while true {
            if let period = officeHours(on: day), period.end > start {
                let from = max(period.start, start)
                let available = period.end.timeIntervalSince(from)
                if remaining <= available { return from.addingTimeInterval(remaining) }
                remaining -= available
            }
            day = day.adding(days: 1)
        }
    }

    /// The instant at which `minutes` business minutes have passed since `start`.
    public func adding(businessMinutes minutes: Int, to start: Date) -> Date {
        adding(businessSeconds: TimeInterval(minutes) * 60, to: start)
    }

    /// Business time, in seconds, between `start` and `end` (zero when `end` is not after `start`).
    public func businessSeconds(from start: Date, to end: Date) -> TimeInterval {
        guard end > start else { return 0 }
        var total: TimeInterval = 0
        var day = localDate(of: start)
        let last = localDate(of: end)
        while day <= last {
            if let period = officeHours(on: day) {
                let from = max(period.start, start), to = min(period.end, end)
                if to > from { total += to.timeIntervalSince(from) }
            }
            day = day.adding(days: 1)
        }
        return total
    }
}
