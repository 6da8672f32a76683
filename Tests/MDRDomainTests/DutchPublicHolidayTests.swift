import Foundation
import Testing

@testable import MDRDomain

@Suite("Dutch public holidays")
struct DutchPublicHolidayTests {
    static func date(_ raw: String) -> CalendarDate { CalendarDate(raw)! }

    @Test(
        "Easter Sunday follows the anonymous Gregorian algorithm",
        arguments: [
            (1943, "1943-04-25"), (2000, "2000-04-23"), (2008, "2008-03-23"), (2011, "2011-04-24"), (2019, "2019-04-21"),
            (2024, "2024-03-31"), (2025, "2025-04-20"), (2026, "2026-04-05"), (2027, "2027-03-28"), (2028, "2028-04-16"),
            (2038, "2038-04-25"), (2285, "2285-03-22"),
        ])
    func easterSundayIsComputed(year: Int, expected: String) {
        #expect(DutchPublicHoliday.easterSunday(year) == Self.date(expected))
    }

    @Test(
        "The holidays of the Algemene termijnenwet per year",
        arguments: [
            (2025, [
                "2025-01-01", "2025-04-20", "2025-04-21", "2025-04-26", "2025-05-05", "2025-05-29", "2025-06-08", "2025-06-09",
                "2025-12-25", "2025-12-26",
            ]),
            (2026, [
                "2026-01-01", "2026-04-05", "2026-04-06", "2026-04-27", "2026-05-05", "2026-05-14", "2026-05-24", "2026-05-25",
                "2026-12-25", "2026-12-26",
            ]),
            (2027, [
                "2027-01-01", "2027-03-28", "2027-03-29", "2027-04-27", "2027-05-05", "2027-05-06", "2027-05-16", "2027-05-17",
                "2027-12-25", "2027-12-26",
            ]),
        ])
    func holidaysOfTheYear(year: Int, expected: [String]) {
        let computed = DutchPublicHoliday.allCases.map { $0.date(in: year) }
        #expect(computed == expected.map(Self.date))
        #expect(Set(DutchPublicHoliday.holidays(in: year).keys) == Set(expected.map(Self.date)))
    }

    @Test(
        "Koningsdag is 27 April, or 26 April when the 27th is a Sunday",
        arguments: [(2014, "2014-04-26"), (2025, "2025-04-26"), (2026, "2026-04-27"), (2027, "2027-04-27"), (2031, "2031-04-26")])
    func koningsdagMovesToSaturdayWhenThe27thIsASunday(year: Int, expected: String) {
        #expect(DutchPublicHoliday.koningsdag.date(in: year) == Self.date(expected))
    }

    @Test func whenKoningsdagMovesThe27thIsAnOrdinaryDay() {
        #expect(DutchPublicHoliday.holiday(on: Self.date("2025-04-26")) == .koningsdag)
        #expect(DutchPublicHoliday.holiday(on: Self.date("2025-04-27")) == nil)
    }

    @Test func goedeVrijdagIsNotAPublicHolidayButATenantMayTakeItOff() {
        let goodFriday = Self.date("2026-04-03")
        #expect(DutchPublicHoliday.holiday(on: goodFriday) == nil)
        #expect(!BusinessClock.standard.isHoliday(goodFriday))
        #expect(BusinessClock(daysOff: [.goedeVrijdag]).isHoliday(goodFriday))
        #expect(BusinessClock(daysOff: [.goedeVrijdag]).isHoliday(Self.date("2027-03-26")))
        #expect(BusinessClock(daysOff: [.date(Self.date("2026-07-01"))]).isHoliday(Self.date("2026-07-01")))
    }

    @Test(
        "Weekdays of known dates",
        arguments: [
            ("1970-01-01", Weekday.thursday), ("2000-01-01", .saturday), ("2026-11-29", .sunday), ("2026-03-29", .sunday),
            ("2026-10-25", .sunday), ("2027-01-01", .friday), ("2024-02-29", .thursday),
        ])
    func weekdayOfADate(raw: String, expected: Weekday) {
        #expect(Self.date(raw).weekday == expected)
    }

    @Test func addingDaysCrossesMonthsLeapDaysAndYears() {
        #expect(Self.date("2026-12-31").adding(days: 1) == Self.date("2027-01-01"))
        #expect(Self.date("2024-02-28").adding(days: 1) == Self.date("2024-02-29"))
        #expect(Self.date("2025-02-28").adding(days: 1) == Self.date("2025-03-01"))
        #expect(Self.date("2026-01-01").adding(days: -1) == Self.date("2025-12-31"))
        #expect(Self.date("2026-04-05").adding(days: 39) == Self.date("2026-05-14"))
    }
}
