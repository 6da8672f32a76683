import Foundation
import MDRDomain
import MDRReports
import Testing

@Suite struct ReportPeriodTests {
    @Test func aMonthIsItsCalendarDaysInAmsterdam() throws {
        let november = try ReportPeriod.month("2026-11")
        #expect(november.from == CalendarDate("2026-11-01")!)
        #expect(november.to == CalendarDate("2026-11-30")!)
        #expect(november.days == 30)
        #expect(november.isCalendarMonth)
        // Midnight in Amsterdam is 23:00 UTC in winter.
        #expect(november.instants.start == Timestamp.parse("2026-10-31T23:00:00Z")!)
        #expect(november.instants.end == Timestamp.parse("2026-11-30T23:00:00Z")!)
        #expect(try ReportPeriod.month("2028-02").days == 29)
    }

    @Test func aMonthWithTheEndOfSummerTimeHasAnHourMore() throws {
        let october = try ReportPeriod.month("2026-10")
        #expect(october.instants.start == Timestamp.parse("2026-09-30T22:00:00Z")!)
        #expect(october.instants.end.timeIntervalSince(october.instants.start) == Double(31 * 24 + 1) * 3600)
        #expect(october.dates.count == 31)
        #expect(october.dates.last == CalendarDate("2026-10-31")!)
    }

    @Test(arguments: ["2026-13", "2026-1", "26-11", "2026-11-01", "november", "2026-+1", ""])
    func aMonthThatIsNotOneIsRefused(_ text: String) {
        #expect(throws: DomainError.self) { try ReportPeriod.month(text) }
        do { _ = try ReportPeriod.month(text) } catch { #expect(error.code == .invalidPeriod && error.kind == .invalid) }
    }

    @Test func aRangeMustRunForwardAndAtMostAYear() throws {
        #expect(try ReportPeriod.days(from: "2026-11-10", to: "2026-11-10").days == 1)
        #expect(try ReportPeriod.days(from: "2026-01-01", to: "2026-12-31").days == 365)
        #expect(!(try ReportPeriod.days(from: "2026-11-01", to: "2026-11-29").isCalendarMonth))
        #expect(throws: DomainError.self) { try ReportPeriod.days(from: "2026-11-10", to: "2026-11-09") }
        #expect(throws: DomainError.self) { try ReportPeriod.days(from: "2026-01-01", to: "2027-01-02") }
        #expect(throws: DomainError.self) { try ReportPeriod.days(from: "2026-02-30", to: "2026-03-01") }
    }
}
