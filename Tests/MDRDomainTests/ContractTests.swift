import Foundation
import Testing

@testable import MDRDomain

/// The contract (DOMAIN.md, "Contract"): 12 months from the start, then indefinite with one month's notice.
@Suite struct ContractTests {
    static func date(_ s: String) -> CalendarDate { CalendarDate(s)! }
    static func contract(_ start: String, notice: String? = nil, package: ServicePackage = .compliant) -> Contract {
        Contract(
            package: package, start: date(start),
            notice: notice.map { ContractNotice(receivedOn: date($0), channel: .email, recordedBy: "dynamic:piet", recordedAt: Fixtures.t0) })
    }

    // MARK: Calendar months

    @Test(arguments: [
        ("2026-01-31", 1, "2026-02-28"),
        ("2028-01-31", 1, "2028-02-29"),
        ("2026-01-31", 12, "2027-01-31"),
        ("2028-02-29", 12, "2029-02-28"),
        ("2028-02-29", 48, "2032-02-29"),
        ("2026-03-31", 1, "2026-04-30"),
        ("2026-12-15", 1, "2027-01-15"),
        ("2026-11-30", 3, "2027-02-28"),
        ("2026-01-15", -1, "2025-12-15"),
        ("2026-03-31", -1, "2026-02-28"),
        ("2026-05-01", 0, "2026-05-01"),
    ])
    func addingCalendarMonthsKeepsTheDayOrTakesTheLastDayOfAShorterMonth(start: String, months: Int, expected: String) {
        #expect(Self.date(start).adding(months: months) == Self.date(expected))
    }

    // MARK: Initial term

    @Test func theInitialTermEndsTwelveCalendarMonthsAfterTheStart() {
        #expect(Self.contract("2026-01-01").initialTermEnd == Self.date("2027-01-01"))
        #expect(Self.contract("2026-01-31").initialTermEnd == Self.date("2027-01-31"))
        #expect(Self.contract("2028-02-29").initialTermEnd == Self.date("2029-02-28"), "a leap day starts a term that ends on 28 February")
    }

    @Test func withoutNoticeTheContractIsInitialThenIndefinite() {
        let c = Self.contract("2026-01-01")
        #expect(c.phase(on: Self.date("2025-12-15")) == .initial, "signed but not yet started counts as the initial term")
        #expect(c.phase(on: Self.date("2026-01-01")) == .initial)
        #expect(c.phase(on: Self.date("2026-12-31")) == .initial)
        #expect(c.phase(on: Self.date("2027-01-01")) == .indefinite, "the term end is the first day after the initial term")
        #expect(c.phase(on: Self.date("2035-06-01")) == .indefinite)
        #expect(c.endDate == nil)
    }

    // MARK: As of a date

    /// A lookup as of a date uses what was known at the end of that day (Amsterdam): a notice received on the 3rd and
    /// recorded on the 5th is not known on the 4th, and its end date with it.
    @Test func aNoticeRecordedAfterTheDateIsNotKnownOnIt() {
        let recordedAt = Timestamp.parse("2027-03-04T23:30:00Z")!  // 5 March, 00:30 in Amsterdam
        let c = Contract(
            package: .compliant, start: Self.date("2026-01-01"),
            notice: ContractNotice(receivedOn: Self.date("2027-03-03"), channel: .letter, recordedBy: "dynamic:piet", recordedAt: recordedAt))
        let onThe4th = c.known(on: Self.date("2027-03-04"))
        #expect(onThe4th.notice == nil && onThe4th.endDate == nil)
        #expect(onThe4th.phase(on: Self.date("2027-03-04")) == .indefinite)
        let onThe5th = c.known(on: Self.date("2027-03-05"))
        #expect(onThe5th.notice?.receivedOn == Self.date("2027-03-03"))
        #expect(onThe5th.phase(on: Self.date("2027-03-05")) == .underNotice)
        #expect(onThe5th.endDate == Self.date("2027-04-03"))
        // Later dates know it too; a later date's phase follows from it.
        #expect(c.known(on: Self.date("2027-04-03")).phase(on: Self.date("2027-04-03")) == .ended)
    }

    // MARK: Notice

    @Test func noticeDuringTheInitialTermEndsTheContractAtTheInitialTermEnd() {
        let c = Self.contract("2026-01-01", notice: "2026-03-10")
        #expect(c.endDate == Self.date("2027-01-01"))
        #expect(c.phase(on: Self.date("2026-03-09")) == .initial)
        #expect(c.phase(on: Self.date("2026-03-10")) == .underNotice)
        #expect(c.phase(on: Self.date("2026-12-31")) == .underNotice)
        #expect(c.phase(on: Self.date("2027-01-01")) == .ended)
    }

    @Test func noticeLateInTheInitialTermRunsOneMonthPastIt() {
        let c = Self.contract("2026-01-01", notice: "2026-12-20")
        #expect(c.endDate == Self.date("2027-01-20"), "the later of the term end and notice + 1 month")
        #expect(c.phase(on: Self.date("2027-01-05")) == .underNotice)
        #expect(c.phase(on: Self.date("2027-01-20")) == .ended)
    }

    @Test func noticeExactlyOneMonthBeforeTheTermEndEndsItAtTheTermEnd() {
        #expect(Self.contract("2026-01-01", notice: "2026-12-01").endDate == Self.date("2027-01-01"))
    }

    @Test func noticeAfterTheInitialTermEndsTheContractOneCalendarMonthLater() {
        let c = Self.contract("2026-01-01", notice: "2027-05-31")
        #expect(c.endDate == Self.date("2027-06-30"), "31 May + 1 month is the last day of June")
        #expect(c.phase(on: Self.date("2027-05-30")) == .indefinite)
        #expect(c.phase(on: Self.date("2027-05-31")) == .underNotice)
        #expect(c.phase(on: Self.date("2027-06-30")) == .ended)
        let leap = Self.contract("2026-01-01", notice: "2028-01-31")
        #expect(leap.endDate == Self.date("2028-02-29"))
    }

    @Test func mdrStatusAndSlaFollowFromThePackage() {
        #expect(Self.contract("2026-01-01").mdrStatus == .included)
        #expect(Self.contract("2026-01-01").sla == .a)
        #expect(Self.contract("2026-01-01", package: .veilig).mdrStatus == .addOn)
        #expect(Self.contract("2026-01-01", package: .veilig).sla == .b)
    }

    // MARK: Give notice (TenantDecider)

    static let by = Fixtures.dynamicStaff
    /// When the notices below are recorded: after they were received.
    static let recorded = Fixtures.time("2027-06-01T09:00:00Z")

    @Test func givingNoticeRecordsTheDateTheChannelAndTheEndDate() throws {
        let tenant = Fixtures.tenant()  // contract start 2026-12-01
        let events = try TenantDecider.decide(
            .giveNotice(receivedOn: Self.date("2027-02-10"), channel: .letter, by: Self.by, at: Self.recorded), tenant)
        #expect(events == [
            .noticeGiven(
                NoticeGiven(receivedOn: Self.date("2027-02-10"), channel: .letter, endDate: Self.date("2027-12-01"), recordedBy: Self.by.id,
                    recordedAt: Self.recorded))
        ])
        #expect(events.map(\.stream) == [.tenant])
        let after = try #require(TenantDecider.fold(events, from: tenant))
        #expect(after.notice?.receivedOn == Self.date("2027-02-10"))
        #expect(after.notice?.channel == .letter)
        #expect(Contract(after).phase(on: Self.date("2027-02-10")) == .underNotice)
        #expect(Contract(after).endDate == Self.date("2027-12-01"))
    }

    @Test func noticeIsRefusedWhenItWasAlreadyGiven() throws {
        let tenant = Fixtures.tenant()
        let first = try TenantDecider.decide(.giveNotice(receivedOn: Self.date("2027-02-10"), channel: .email, by: Self.by, at: Self.recorded), tenant)
        let noticed = TenantDecider.fold(first, from: tenant)
        expectRefusal(.noticeAlreadyGiven, .conflict) { () throws(DomainError) in
            try TenantDecider.decide(.giveNotice(receivedOn: Self.date("2027-03-01"), channel: .letter, by: Self.by, at: Self.recorded), noticed)
        }
    }

    @Test func noticeIsRefusedWhenReceivedBeforeTheContractStart() {
        expectRefusal(.noticeBeforeContractStart, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(
                .giveNotice(receivedOn: Self.date("2026-11-30"), channel: .email, by: Self.by, at: Self.recorded), Fixtures.tenant())
        }
    }

    @Test func noticeIsRefusedForATenantNotOnboarded() {
        expectRefusal(.tenantNotFound, .notFound) { () throws(DomainError) in
            try TenantDecider.decide(.giveNotice(receivedOn: Self.date("2027-01-01"), channel: .email, by: Self.by, at: Self.recorded), nil)
        }
    }

    @Test func noticeIsRefusedWhenItsDateLiesInTheFuture() throws {
        // Recorded on 1 June 2027 at 01:30 Amsterdam time (23:30 UTC the day before): 1 June is today, 2 June is not.
        let at = Fixtures.time("2027-05-31T23:30:00Z")
        #expect(throws: Never.self) {
            try TenantDecider.decide(.giveNotice(receivedOn: Self.date("2027-06-01"), channel: .email, by: Self.by, at: at), Fixtures.tenant())
        }
        expectRefusal(.noticeInFuture, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.giveNotice(receivedOn: Self.date("2027-06-02"), channel: .email, by: Self.by, at: at), Fixtures.tenant())
        }
    }
}
