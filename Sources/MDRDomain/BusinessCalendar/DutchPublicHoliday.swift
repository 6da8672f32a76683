import Foundation

/// The general public holidays of the Dutch Algemene termijnenwet (art. 3), which the business clock skips.
///
/// Easter-based days are computed per year (anonymous Gregorian algorithm), never listed.
public enum DutchPublicHoliday: String, Sendable, Codable, CaseIterable {
    case nieuwjaarsdag
    case eerstePaasdag = "eerste_paasdag"
    case tweedePaasdag = "tweede_paasdag"
    /// 27 April, or 26 April when the 27th is a Sunday.
    case koningsdag
    /// 5 May. The Algemene termijnenwet lists it every year (not only in lustrum years).
    case bevrijdingsdag
    /// Easter + 39 days.
    case hemelvaartsdag
    /// Easter + 49 days.
    case eerstePinksterdag = "eerste_pinksterdag"
    /// Easter + 50 days.
    case tweedePinksterdag = "tweede_pinksterdag"
    case eersteKerstdag = "eerste_kerstdag"
    case tweedeKerstdag = "tweede_kerstdag"

    /// The date of this holiday in `year`.
    public func date(in year: Int) -> CalendarDate {
        func fixed(_ month: Int, _ day: Int) -> CalendarDate {
            guard let date = CalendarDate(year: year, month: month, day: day) else {
                preconditionFailure("year \(year) is outside 1900…9999")
            }
            return date
        }
        switch self {
        case .nieuwjaarsdag: return fixed(1, 1)
        case .eerstePaasdag: return Self.easterSunday(year)
        case .tweedePaasdag: return Self.easterSunday(year).adding(days: 1)
        case .koningsdag:
            let the27th = fixed(4, 27)
            return the27th.weekday == .sunday ? fixed(4, 26) : the27th
        case .bevrijdingsdag: return fixed(5, 5)
        case .hemelvaartsdag: return Self.easterSunday(year).adding(days: 39)
        case .eerstePinksterdag: return Self.easterSunday(year).adding(days: 49)
        case .tweedePinksterdag: return Self.easterSunday(year).adding(days: 50)
        case .eersteKerstdag: return fixed(12, 25)
        case .tweedeKerstdag: return fixed(12, 26)
        }
    }

    /// All holidays of `year`, by date.
    public static func holidays(in year: Int) -> [CalendarDate: DutchPublicHoliday] {
        Dictionary(allCases.map { ($0.date(in: year), $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The holiday on `date`, if any.
    public static func holiday(on date: CalendarDate) -> DutchPublicHoliday? {
        allCases.first { $0.date(in: date.year) == date }
    }

    /// Easter Sunday of `year` in the Gregorian calendar (the anonymous Gregorian algorithm, Meeus/Jones/Butcher).
    public static func easterSunday(_ year: Int) -> CalendarDate {
        let a = year % 19
        let b = year / 100, c = year % 100
        let d = b / 4, e = b % 4
        let f = (b + 8) / 25
        let g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4, k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        guard let date = CalendarDate(year: year, month: month, day: day) else {
            preconditionFailure("year \(year) is outside 1900…9999")
        }
        return date
    }
}
