import Foundation

extension CalendarDate {
    /// The same day `months` calendar months later (earlier when negative), clamped to the last day of a shorter
    /// month: 31 January + 1 month = 28 (29) February, 29 February 2028 + 12 months = 28 February 2029.
    ///
    /// Traps outside the years 1900…9999, which no contract of this service reaches.
    public func adding(months: Int) -> CalendarDate {
        let index = year * 12 + (month - 1) + months
        let y = index >= 0 ? index / 12 : (index - 11) / 12
        let m = index - y * 12 + 1
        guard let date = CalendarDate(year: y, month: m, day: min(day, CalendarDate.daysIn(month: m, year: y))) else {
            preconditionFailure("date \(self) + \(months) months is outside 1900…9999")
        }
        return date
    }
}

/// How written notice reached Dynamic (the seed: "in writing via the provider's info mailbox").
public enum NoticeChannel: String, Sendable, Codable, CaseIterable {
    case letter
    case email
    case other
}

/// Written notice of termination, as received.
public struct ContractNotice: Hashable, Sendable, Codable {
    /// The date the notice was received (not the date it was recorded).
    public var receivedOn: CalendarDate
    public var channel: NoticeChannel
    /// The principal who recorded it.
    public var recordedBy: String
    public var recordedAt: Date

    public init(receivedOn: CalendarDate, channel: NoticeChannel, recordedBy: String, recordedAt: Date) {
        self.receivedOn = receivedOn
        self.channel = channel
        self.recordedBy = recordedBy
        self.recordedAt = recordedAt
    }
}

/// Where a contract stands on a given date.
public enum ContractPhase: String, Sendable, Codable, CaseIterable {
    /// Within the initial term of 12 months, no notice received.
    case initial
    /// After the initial term, continuing for an indefinite period; no notice received.
    case indefinite
    /// Notice was received; the contract runs until its end date.
    case underNotice = "under_notice"
    /// On or after the end date.
    case ended
}

/// A tenant's contract (`DOMAIN.md`, "Contract"): a standard initial term of 12 months from the start date, then an
/// indefinite period with one month's notice. Dates are calendar dates; an end date is the first day no longer
/// covered (a contract from 2026-01-01 has its initial term end on 2027-01-01 and is `indefinite` from that day).
public struct Contract: Hashable, Sendable {
    /// The standard initial term.
    public static let initialTermMonths = 12
    /// The notice period once the initial term has passed.
    public static let noticeMonths = 1

    public var package: ServicePackage
    public var start: CalendarDate
    public var notice: ContractNotice?

    public init(package: ServicePackage, start: CalendarDate, notice: ContractNotice?) {
        self.package = package
        self.start = start
        self.notice = notice
    }

    public init(_ tenant: Tenant) {
        self.init(package: tenant.package, start: tenant.contractStart, notice: tenant.notice)
    }

    /// Included, add-on or not available: follows from the package.
    public var mdrStatus: MDRStatus { package.mdrStatus }
    /// SLA A or B: follows from the package (nil for Modern, which is never onboarded).
    public var sla: ServiceLevel? { package.sla }

    /// The end of the initial term: the start plus 12 calendar months.
    public var initialTermEnd: CalendarDate { start.adding(months: Self.initialTermMonths) }

    /// The end date once notice was given: the later of the initial term end and the notice date plus one month.
    public var endDate: CalendarDate? {
        notice.map { Self.endDate(initialTermEnd: initialTermEnd, noticeReceivedOn: $0.receivedOn) }
    }

    public static func endDate(initialTermEnd: CalendarDate, noticeReceivedOn: CalendarDate) -> CalendarDate {
        max(initialTermEnd, noticeReceivedOn.adding(months: noticeMonths))
    }

    /// The contract as it was known at the end of `date` (Europe/Amsterdam): a notice recorded after that day is left
    /// out, with the end date it implies. A lookup "as of" a date answers what the service could have answered then,
    /// not what was learnt later (a notice received on the 3rd and recorded on the 5th is not known on the 4th).
    public func known(on date: CalendarDate, clock: BusinessClock = .standard) -> Contract {
        guard let notice, notice.recordedAt >= clock.startOfDay(after: date) else { return self }
        return Contract(package: package, start: start, notice: nil)
    }

    /// The phase on `date`. Before the start date a signed contract counts as in its initial term.
    public func phase(on date: CalendarDate) -> ContractPhase {
        if let notice, let end = endDate {
            if date >= end { return .ended }
            if date >= notice.receivedOn { return .underNotice }
        }
        return date < initialTermEnd ? .initial : .indefinite
    }
}

/// Recorded when written notice of termination is received.
public struct NoticeGiven: DomainEventPayload {
    public static let eventType = "NoticeGiven"
    public var receivedOn: CalendarDate
    public var channel: NoticeChannel
    /// The end date it gives the contract, as computed when recorded.
    public var endDate: CalendarDate
    public var recordedBy: String
    public var recordedAt: Date

    public init(receivedOn: CalendarDate, channel: NoticeChannel, endDate: CalendarDate, recordedBy: String, recordedAt: Date) {
        self.receivedOn = receivedOn
        self.channel = channel
        self.endDate = endDate
        self.recordedBy = recordedBy
        self.recordedAt = recordedAt
    }
}
