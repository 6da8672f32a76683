import Foundation
import Testing

@testable import MDRDomain

/// Identifiers and calendar dates: what is accepted at the edge.
@Suite struct IdentifierTests {
    // MARK: TenantID

    @Test(arguments: ["acme-bv", "ab", "a1", "1st-choice", "acme-", String(repeating: "a", count: 63)])
    func aTenantIdIsASlugOf2To63Characters(raw: String) throws {
        let id = try TenantID.parse(raw)
        #expect(id.rawValue == raw)
        #expect(id.description == raw)
    }

    @Test(arguments: [
        "", "a", String(repeating: "a", count: 64), "Acme", "acme_bv", "acme bv", "-acme", "café", "acme.bv", "acme/bv", " acme",
    ])
    func anInvalidTenantIdIsRefused(raw: String) {
        #expect(TenantID(rawValue: raw) == nil)
        let error = #expect(throws: DomainError.self) { try TenantID.parse(raw) }
        #expect(error?.code == .invalidTenantID)
        #expect(error?.kind == .invalid)
    }

    @Test func aTenantIdIsEncodedAsItsSlugAndValidatedWhenDecoded() throws {
        #expect(String(decoding: try JSONEncoder().encode(Fixtures.acme), as: UTF8.self) == #""acme-bv""#)
        #expect(try JSONDecoder().decode(TenantID.self, from: Data(#""acme-bv""#.utf8)) == Fixtures.acme)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TenantID.self, from: Data(#""ACME""#.utf8)) }
    }

    // MARK: DeviceID

    @Test(arguments: [
        "ws-0042", "DESKTOP-7QK2L1M", "1e5bc9d7e413ddd7902c2932e418702b84d0cc07", "laptop 12 (Jan)", String(repeating: "x", count: 200),
    ])
    func aDeviceIdIsAnyPrintableTextWithoutSlash(raw: String) {
        #expect(DeviceID(rawValue: raw)?.rawValue == raw)
    }

    @Test func aDeviceIdIsTrimmedAndKeepsItsCase() {
        #expect(DeviceID(rawValue: "  WS-0042\t")?.rawValue == "WS-0042")
        #expect(DeviceID(rawValue: "WS-0042") != DeviceID(rawValue: "ws-0042"))
    }

    @Test(arguments: ["", "   ", "ws/0042", "ws-\n0042", "ws-\u{0}42", "ws-\u{7F}", String(repeating: "x", count: 201)])
    func anInvalidDeviceIdIsRefused(raw: String) {
        #expect(DeviceID(rawValue: raw) == nil)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(DeviceID.self, from: JSONEncoder().encode(raw)) }
    }

    // MARK: IncidentID

    @Test func anIncidentIdIsWrittenAsALowercaseUuid() throws {
        let id = try #require(IncidentID("0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"))
        #expect(id.description == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
        #expect(IncidentID("not-a-uuid") == nil)
        #expect(try JSONDecoder().decode(IncidentID.self, from: JSONEncoder().encode(id)) == id)
    }

    // MARK: CalendarDate

    @Test func aCalendarDateIsParsedFromYearMonthDay() throws {
        let date = try #require(CalendarDate("2026-11-29"))
        #expect((date.year, date.month, date.day) == (2026, 11, 29))
        #expect(date.description == "2026-11-29")
        #expect(CalendarDate(year: 2027, month: 1, day: 5)?.description == "2027-01-05")
    }

    @Test(arguments: ["2024-02-29", "2000-02-29", "2028-02-29", "2400-02-29"])
    func februaryHas29DaysInALeapYear(raw: String) {
        #expect(CalendarDate(raw) != nil)
    }

    @Test(arguments: ["2026-02-29", "2100-02-29", "1900-02-29", "2023-02-29"])
    func februaryHas28DaysOtherwiseIncludingCenturiesNotDivisibleBy400(raw: String) {
        #expect(CalendarDate(raw) == nil)
    }

    @Test func daysPerMonthFollowTheGregorianCalendar() {
        #expect((1...12).map { CalendarDate.daysIn(month: $0, year: 2026) } == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
        #expect(CalendarDate.daysIn(month: 2, year: 2024) == 29)
        #expect(CalendarDate.daysIn(month: 2, year: 2000) == 29)
        #expect(CalendarDate.daysIn(month: 2, year: 2100) == 28)
    }

    @Test(arguments: [
        "", "2026-11-31", "2026-04-31", "2026-13-01", "2026-00-10", "2026-11-00", "2026-4-01", "26-11-29", "2026/11/29",
        "2026-11-29T00:00:00Z", "2026-+1-05", "2026-01-+5", "+026-01-05", "1899-12-31", " 2026-11-29", "2026-11-2 ",
    ])
    func anInvalidCalendarDateIsRefused(raw: String) {
        #expect(CalendarDate(raw) == nil)
    }

    @Test func calendarDatesCompareChronologically() throws {
        let dates = ["2026-12-01", "2026-01-31", "2025-12-31", "2026-02-01"].compactMap(CalendarDate.init)
        #expect(dates.sorted().map(\.description) == ["2025-12-31", "2026-01-31", "2026-02-01", "2026-12-01"])
    }

    @Test func aCalendarDateIsEncodedAsItsTextAndValidatedWhenDecoded() throws {
        #expect(String(decoding: try JSONEncoder().encode(Fixtures.contractStart), as: UTF8.self) == #""2026-12-01""#)
        #expect(try JSONDecoder().decode(CalendarDate.self, from: Data(#""2026-12-01""#.utf8)) == Fixtures.contractStart)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(CalendarDate.self, from: Data(#""2026-02-30""#.utf8)) }
    }
}
