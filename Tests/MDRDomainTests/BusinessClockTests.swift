import Foundation
import Testing

@testable import MDRDomain

/// The business clock: Monday–Friday 08:00–17:30 Europe/Amsterdam without Dutch public holidays. Times are written
/// with their Amsterdam offset (+01:00 in winter, +02:00 in summer) so each expectation reads as wall-clock time.
@Suite("Business clock")
struct BusinessClockTests {
    let clock = BusinessClock.standard
    static func t(_ raw: String) -> Date { Fixtures.time(raw) }

    @Test(
        "Within office hours: 08:00 inclusive to 17:30 exclusive, weekdays, not on holidays",
        arguments: [
            ("2026-03-30T08:00:00+02:00", true), ("2026-03-30T07:59:59+02:00", false), ("2026-03-30T17:29:59+02:00", true),
            ("2026-03-30T17:30:00+02:00", false), ("2026-11-30T08:00:00+01:00", true), ("2026-11-30T07:30:00+01:00", false),
            ("2026-03-28T10:00:00+01:00", false),  // Saturday
            ("2026-04-27T10:00:00+02:00", false),  // Koningsdag, a Monday
            ("2026-05-14T10:00:00+02:00", false),  // Hemelvaartsdag
            ("2026-05-05T10:00:00+02:00", false),  // Bevrijdingsdag
            ("2026-12-24T10:00:00+01:00", true),  // Christmas Eve is a working day
            ("2026-12-28T10:00:00+01:00", true),
        ])
    func withinOfficeHours(raw: String, expected: Bool) {
        #expect(clock.isWithinOfficeHours(Self.t(raw)) == expected)
    }

    @Test func officeHoursStayAtEightLocalOnBothSidesOfDaylightSaving() {
        // Amsterdam 08:00 is 07:00 UTC before the last Sunday of March and 06:00 UTC after it; back in October.
        #expect(clock.officeHours(on: CalendarDate("2026-03-27")!)?.start == Self.t("2026-03-27T07:00:00Z"))
        #expect(clock.officeHours(on: CalendarDate("2026-03-30")!)?.start == Self.t("2026-03-30T06:00:00Z"))
        #expect(clock.officeHours(on: CalendarDate("2026-10-23")!)?.end == Self.t("2026-10-23T15:30:00Z"))
        #expect(clock.officeHours(on: CalendarDate("2026-10-26")!)?.end == Self.t("2026-10-26T16:30:00Z"))
    }

    @Test(
        "The next office-hours start skips evenings, weekends and holidays",
        arguments: [
            ("2026-03-27T18:00:00+01:00", "2026-03-30T08:00:00+02:00"),  // Friday evening → Monday, across March DST
            ("2026-10-23T18:00:00+02:00", "2026-10-26T08:00:00+01:00"),  // Friday evening → Monday, across October DST
            ("2026-04-02T18:00:00+02:00", "2026-04-03T08:00:00+02:00"),  // Goede Vrijdag is a working day by default
            ("2026-04-04T12:00:00+02:00", "2026-04-07T08:00:00+02:00"),  // Easter weekend → Tuesday
            ("2026-04-24T18:00:00+02:00", "2026-04-28T08:00:00+02:00"),  // Koningsdag Monday → Tuesday
            ("2026-05-13T17:30:00+02:00", "2026-05-15T08:00:00+02:00"),  // over Hemelvaartsdag
            ("2026-05-22T18:00:00+02:00", "2026-05-26T08:00:00+02:00"),  // Pentecost weekend → Tuesday
            ("2027-03-26T18:00:00+01:00", "2027-03-30T08:00:00+02:00"),  // Easter 2027 with the March DST change
            ("2027-05-04T18:00:00+02:00", "2027-05-07T08:00:00+02:00"),  // Bevrijdingsdag then Hemelvaartsdag 2027
            ("2027-05-14T18:00:00+02:00", "2027-05-18T08:00:00+02:00"),  // Pentecost 2027
            ("2026-12-24T18:00:00+01:00", "2026-12-28T08:00:00+01:00"),  // Christmas
            ("2026-12-31T18:00:00+01:00", "2027-01-04T08:00:00+01:00"),  // year boundary, Nieuwjaarsdag on a Friday
            ("2026-03-30T06:00:00+02:00", "2026-03-30T08:00:00+02:00"),  // early morning → the same day
            ("2026-03-30T08:00:00+02:00", "2026-03-31T08:00:00+02:00"),  // at an opening: the next one
            ("2026-03-30T12:00:00+02:00", "2026-03-31T08:00:00+02:00"),  // within office hours: the next day's
        ])
    func nextOfficeHoursStart(from: String, expected: String) {
        #expect(clock.nextOfficeHoursStart(after: Self.t(from)) == Self.t(expected))
    }

    @Test func aTenantsGoedeVrijdagMovesTheNextStartPastEaster() {
        let clock = BusinessClock(daysOff: [.goedeVrijdag])
        #expect(clock.nextOfficeHoursStart(after: Self.t("2026-04-02T18:00:00+02:00")) == Self.t("2026-04-07T08:00:00+02:00"))
    }

    @Test(
        "Adding business minutes counts only office hours, in wall-clock time",
        arguments: [
            ("2026-03-27T17:00:00+01:00", 60, "2026-03-30T08:30:00+02:00"),  // Friday → Monday across March DST
            ("2026-10-23T17:00:00+02:00", 60, "2026-10-26T08:30:00+01:00"),  // Friday → Monday across October DST
            ("2026-03-28T03:00:00+01:00", 240, "2026-03-30T12:00:00+02:00"),  // weekend start counts from Monday 08:00
            ("2026-12-31T17:00:00+01:00", 60, "2027-01-04T08:30:00+01:00"),  // year boundary and Nieuwjaarsdag
            ("2026-04-02T16:00:00+02:00", 480, "2026-04-03T14:30:00+02:00"),  // 8 business hours over a night
            ("2026-04-03T16:00:00+02:00", 120, "2026-04-07T08:30:00+02:00"),  // over Easter 2026
            ("2026-05-13T16:00:00+02:00", 240, "2026-05-15T10:30:00+02:00"),  // over Hemelvaartsdag 2026
            ("2027-05-04T17:00:00+02:00", 60, "2027-05-07T08:30:00+02:00"),  // Bevrijdingsdag + Hemelvaartsdag 2027
            ("2027-05-14T17:00:00+02:00", 60, "2027-05-18T08:30:00+02:00"),  // Pentecost 2027
            ("2026-03-30T08:00:00+02:00", 570, "2026-03-30T17:30:00+02:00"),  // a whole day ends at closing, not the next opening
            ("2026-03-30T09:00:00+02:00", 0, "2026-03-30T09:00:00+02:00"),
        ])
    func addingBusinessMinutes(start: String, minutes: Int, expected: String) {
        #expect(clock.adding(businessMinutes: minutes, to: Self.t(start)) == Self.t(expected))
    }

    @Test(
        "Business time between two instants",
        arguments: [
            ("2026-03-27T17:00:00+01:00", "2026-03-30T09:00:00+02:00", 90),  // across March DST
            ("2026-10-23T17:00:00+02:00", "2026-10-26T09:00:00+01:00", 90),  // across October DST
            ("2026-11-30T00:00:00+01:00", "2026-12-05T00:00:00+01:00", 5 * 570),  // a full working week
            ("2026-05-11T00:00:00+02:00", "2026-05-18T00:00:00+02:00", 4 * 570),  // a week with Hemelvaartsdag
            ("2026-12-24T12:00:00+01:00", "2026-12-28T09:00:00+01:00", 330 + 60),  // Christmas
            ("2026-03-28T10:00:00+01:00", "2026-03-29T10:00:00+02:00", 0),  // the DST weekend itself
            ("2026-03-30T10:00:00+02:00", "2026-03-30T09:00:00+02:00", 0),  // end before start
        ])
    func businessTimeBetween(start: String, end: String, minutes: Int) {
        #expect(clock.businessSeconds(from: Self.t(start), to: Self.t(end)) == TimeInterval(minutes * 60))
    }

    @Test func addingThenMeasuringGivesBackTheBusinessTimeFromAnyStart() {
        // Every 97 minutes over the spring weeks with Easter, the DST change, Koningsdag and Bevrijdingsdag.
        var start = Self.t("2026-03-20T00:00:00Z")
        let end = Self.t("2026-05-10T00:00:00Z")
        while start < end {
            for minutes in [1, 15, 240, 480, 1_000] {
                let deadline = clock.adding(businessMinutes: minutes, to: start)
                #expect(clock.businessSeconds(from: start, to: deadline) == TimeInterval(minutes * 60), "from \(start)")
                #expect(clock.isWithinOfficeHours(deadline.addingTimeInterval(-1)), "the last second counted is in office hours")
            }
            start = start.addingTimeInterval(97 * 60)
        }
    }

    @Test func aContinuousDeadlineIsRealTimeAcrossTheDaylightSavingChange() {
        // 01:50 CET + 15 min = 03:05 CEST: the clock jumped, the deadline did not.
        let rule = SlaDeadlineRule.within(minutes: 15, clock: .continuous)
        #expect(rule.deadline(from: Self.t("2026-03-29T01:50:00+01:00"), on: clock) == Self.t("2026-03-29T03:05:00+02:00"))
        #expect(rule.deadline(from: Self.t("2026-10-25T02:50:00+02:00"), on: clock) == Self.t("2026-10-25T02:05:00+01:00"))
    }

    @Test func theLocalDateIsAmsterdamsNotUtcs() {
        #expect(clock.localDate(of: Self.t("2026-03-29T23:30:00Z")) == CalendarDate("2026-03-30"))
        #expect(clock.localDate(of: Self.t("2026-12-31T23:30:00Z")) == CalendarDate("2027-01-01"))
    }

    @Test func officeHoursRefuseAnUnknownZoneNoWeekdaysOrClosingBeforeOpening() {
        let eight = TimeOfDay(hour: 8, minute: 0)!, five = TimeOfDay(hour: 17, minute: 0)!
        #expect(throws: DomainError.self) { try OfficeHours(timeZoneIdentifier: "Mars/Olympus", weekdays: [.monday], opens: eight, closes: five) }
        #expect(throws: DomainError.self) { try OfficeHours(timeZoneIdentifier: "Europe/Amsterdam", weekdays: [], opens: eight, closes: five) }
        #expect(throws: DomainError.self) { try OfficeHours(timeZoneIdentifier: "Europe/Amsterdam", weekdays: [.monday], opens: five, closes: eight) }
        do {
            _ = try OfficeHours(timeZoneIdentifier: "Europe/Amsterdam", weekdays: [.monday], opens: eight, closes: eight)
            Issue.record("opening equal to closing was accepted")
        } catch {
            #expect(error.code == .invalidOfficeHours)
        }
    }

    @Test func officeHoursAreDataThatRoundTripsAsJsonAndIsValidatedOnDecoding() throws {
        let data = try JSONCoding.encoder().encode(OfficeHours.standard)
        #expect(
            String(decoding: data, as: UTF8.self)
                == #"{"closes":"17:30","opens":"08:00","timeZone":"Europe/Amsterdam","weekdays":[1,2,3,4,5]}"#)
        #expect(try JSONCoding.decoder().decode(OfficeHours.self, from: data) == .standard)
        let bad = Data(#"{"closes":"07:00","opens":"08:00","timeZone":"Europe/Amsterdam","weekdays":[1]}"#.utf8)
        #expect(throws: DomainError.self) { try JSONCoding.decoder().decode(OfficeHours.self, from: bad) }
    }
}
