import Foundation
import Testing

@testable import MDRDomain

@Suite("NIS2 reporting deadlines")
struct Nis2ReportingDeadlinesTests {
    @Test func deadlinesRunFromConfirmation24And72HoursAndAMonthAfterTheNotification() {
        let confirmed = Fixtures.time("2026-11-30T10:00:00Z")
        let deadlines = Nis2ReportingDeadlines(awareAt: confirmed)
        #expect(deadlines.earlyWarning == Fixtures.time("2026-12-01T10:00:00Z"))
        #expect(deadlines.incidentNotification == Fixtures.time("2026-12-03T10:00:00Z"))
        #expect(deadlines.finalReport == Fixtures.time("2027-01-03T10:00:00Z"))
    }

    @Test func theFinalReportFollowsTheNotificationActuallySubmitted() {
        let deadlines = Nis2ReportingDeadlines(
            awareAt: Fixtures.time("2026-11-30T10:00:00Z"), incidentNotifiedAt: Fixtures.time("2026-12-01T15:00:00Z"))
        #expect(deadlines.finalReport == Fixtures.time("2027-01-01T15:00:00Z"))
    }

    @Test func hoursAreRealHoursAndTheMonthKeepsTheAmsterdamTimeOfDayAcrossDaylightSaving() {
        // Confirmed Friday 27 March 2026 12:00 CET; the clocks go forward on Sunday.
        let deadlines = Nis2ReportingDeadlines(awareAt: Fixtures.time("2026-03-27T12:00:00+01:00"))
        #expect(deadlines.earlyWarning == Fixtures.time("2026-03-28T12:00:00+01:00"))
        #expect(deadlines.incidentNotification == Fixtures.time("2026-03-30T13:00:00+02:00"), "72 real hours")
        #expect(deadlines.finalReport == Fixtures.time("2026-04-30T13:00:00+02:00"))
    }

    @Test func aMonthAfterTheLastDayOfAMonthIsTheLastDayOfTheNext() {
        let deadlines = Nis2ReportingDeadlines(
            awareAt: Fixtures.time("2027-01-28T10:00:00+01:00"), incidentNotifiedAt: Fixtures.time("2027-01-31T10:00:00+01:00"))
        #expect(deadlines.finalReport == Fixtures.time("2027-02-28T10:00:00+01:00"))
    }
}
