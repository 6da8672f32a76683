import Foundation

/// A calendar month (`2026-11`): the unit of billing and of the monthly report.
public struct BillingMonth: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    public init?(year: Int, month: Int) {
        guard (1900...9999).contains(year), (1...12).contains(month) else { return nil }
        self.year = year
        self.month = month
    }

    /// Parses `YYYY-MM`.
    public init?(_ string: String) {
        let parts = string.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
            parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
            let y = Int(parts[0]), let m = Int(parts[1])
        else { return nil }
        self.init(year: y, month: m)
    }

    /// Parses `YYYY-MM` or throws `invalid_month`.
    public static func parse(_ string: String) throws(DomainError) -> BillingMonth {
        guard let month = BillingMonth(string) else {
            throw DomainError(.invalidMonth, .invalid, "a month is written YYYY-MM (e.g. 2026-11), got '\(string.prefix(40))'")
        }
        return month
    }

    /// The month containing `date`.
    public init(_ date: CalendarDate) {
        self.year = date.year
        self.month = date.month
    }

    public var firstDay: CalendarDate { CalendarDate(year: year, month: month, day: 1)! }
    public var lastDay: CalendarDate { CalendarDate(year: year, month: month, day: CalendarDate.daysIn(month: month, year: year))! }
    public var next: BillingMonth { BillingMonth(firstDay.adding(months: 1)) }

    public var description: String { month < 10 ? "\(year)-0\(month)" : "\(year)-\(month)" }

    public static func < (a: BillingMonth, b: BillingMonth) -> Bool { (a.year, a.month) < (b.year, b.month) }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let month = BillingMonth(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected a month as YYYY-MM"))
        }
        self = month
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Why a tenant's month is or is not billed.
public enum BillingStatus: String, Sendable, Codable, CaseIterable {
    /// Monitoring was active for at least part of the month.
    case billable
    /// Monitoring had not been activated by the end of the month (onboarding still in progress).
    case monitoringNotActive = "monitoring_not_active"
    /// The contract ended before the month began.
    case contractEnded = "contract_ended"
    /// The contract starts after the month.
    case contractNotStarted = "contract_not_started"
}

/// How MDR is charged: per monitored workstation (Veilig add-on) or included in the package price (Compliant).
public enum BillingCharge: String, Sendable, Codable {
    case perWorkstation = "per_workstation"
    case included
}

/// One tenant's billing for one month: Dynamic's invoice line.
public struct BillingLine: Sendable, Equatable, Codable {
    public var month: BillingMonth
    public var tenantID: TenantID
    public var tenantName: String
    public var package: ServicePackage
    public var mdrStatus: MDRStatus
    public var charge: BillingCharge
    public var status: BillingStatus
    /// The part of the month in which the tenant was monitored under contract (nil when not billable).
    public var monitoredFrom: Date?
    public var monitoredUntil: Date?
    /// Workstations monitored at any time within that part of the month, by id.
    public var workstations: [DeviceID]
    /// Servers monitored then, listed apart: not priced per workstation.
    public var servers: [DeviceID]
    /// Veilig: the quoted price per workstation per month, in euro cents.
    public var unitPriceCents: Int?
    /// Veilig: workstations × unit price, in euro cents; nil when MDR is included in the package price.
    public var amountCents: Int?
    public var currency: String = "EUR"

    enum CodingKeys: String, CodingKey {
        case month, tenantID = "tenantId", tenantName, package, mdrStatus, charge, status, monitoredFrom, monitoredUntil, workstations,
            servers, unitPriceCents, amountCents, currency
    }
}

/// The billing rules of `DOMAIN.md` ("Billing and reports"): per tenant and month, the workstations with monitoring
/// active at any time in the month, times the quoted unit price under Werkplek Veilig; "included" under Werkplek
/// Compliant. A month is a calendar month in Europe/Amsterdam, and a device counts for the whole month however short
/// its time in it (no pro-rating: the quote prices a workstation per month).
public enum Billing {
    /// The instants `[start, end)` of `month` in Europe/Amsterdam.
    public static func bounds(of month: BillingMonth) -> (start: Date, end: Date) {
        (startOfDay(month.firstDay), BusinessClock.standard.startOfDay(after: month.lastDay))
    }

    /// Midnight at the start of `date` in Europe/Amsterdam.
    static func startOfDay(_ date: CalendarDate) -> Date { BusinessClock.standard.startOfDay(date) }

    /// The billing line of `tenant` for `month`, from its device inventory.
    ///
    /// The billed part of the month runs from the latest of the month's start, the contract's start and the moment
    /// monitoring became active, to the earliest of the month's end and the contract's end date (after notice).
    public static func line(tenant: Tenant, inventory: DeviceInventory, month: BillingMonth) -> BillingLine {
        let contract = Contract(tenant)
        let (monthStart, monthEnd) = bounds(of: month)
        var line = BillingLine(
            month: month, tenantID: tenant.id, tenantName: tenant.name, package: tenant.package, mdrStatus: tenant.mdrStatus,
            charge: tenant.package == .veilig ? .perWorkstation : .included, status: .billable, workstations: [], servers: [],
            unitPriceCents: tenant.package == .veilig ? tenant.pricePerWorkstationCents : nil,
            amountCents: tenant.package == .veilig ? 0 : nil)

        if let end = contract.endDate, startOfDay(end) <= monthStart {
            line.status = .contractEnded
            return line
        }
        if startOfDay(contract.start) >= monthEnd {
            line.status = .contractNotStarted
            return line
        }
        guard let active = tenant.onboardingProgress.monitoringActiveSince else {
            line.status = .monitoringNotActive
            return line
        }
        let start = max(monthStart, active, startOfDay(contract.start))
        let end = min(monthEnd, contract.endDate.map(startOfDay) ?? monthEnd)
        guard start < end else {
            line.status = active >= monthEnd ? .monitoringNotActive : .contractEnded
            return line
        }
        line.monitoredFrom = start
        line.monitoredUntil = end
        let devices = inventory.monitored(between: start, and: end)
        line.workstations = devices.filter { $0.kind == .workstation }.map(\.deviceID)
        line.servers = devices.filter { $0.kind == .server }.map(\.deviceID)
        if let price = line.unitPriceCents {
            line.amountCents = price * line.workstations.count
        }
        return line
    }
}

/// Dynamic's export of every tenant's line for a month.
public enum BillingExport {
    /// The CSV columns, in order.
    public static let header = [
        "month", "tenant_id", "tenant_name", "package", "mdr_status", "charge", "status", "workstations", "servers", "unit_price_eur",
        "amount_eur", "currency",
    ]

    /// RFC 4180 CSV (CRLF line ends, fields quoted when needed), one line per tenant after the header. Euro amounts
    /// with two decimals and a point; empty for "included".
    public static func csv(_ lines: [BillingLine]) -> String {
        var out = header.joined(separator: ",") + "\r\n"
        for l in lines {
            let fields = [
                l.month.description, l.tenantID.rawValue, l.tenantName, l.package.rawValue, l.mdrStatus.rawValue, l.charge.rawValue,
                l.status.rawValue, String(l.workstations.count), String(l.servers.count), l.unitPriceCents.map(euros) ?? "",
                l.amountCents.map(euros) ?? "", l.currency,
            ]
            out += fields.map(field).joined(separator: ",") + "\r\n"
        }
        return out
    }

    /// Cents as euros: 125000 → "1250.00".
    public static func euros(_ cents: Int) -> String {
        let sign = cents < 0 ? "-" : ""
        let c = cents.magnitude
        let fraction = c % 100
        return "\(sign)\(c / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line break. A leading `=`, `+`, `-` or `@` is
    /// prefixed with a quote mark so that a spreadsheet never runs a tenant's name as a formula.
    static func field(_ raw: String) -> String {
        var value = raw
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
