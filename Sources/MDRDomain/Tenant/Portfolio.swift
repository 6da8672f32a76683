import Foundation

/// One customer in Dynamic's portfolio as of a date: package, onboarding, contract and size at a glance (issue 17).
/// Pure: made from the tenant's own streams and the open incident counts.
public struct PortfolioEntry: Hashable, Sendable, Codable {
    public var tenantID: TenantID
    public var name: String
    public var package: ServicePackage
    public var sla: ServiceLevel
    public var mdrStatus: MDRStatus
    public var onboarding: OnboardingPhase
    /// Since when the SOC watches 24/7 (onboarding step 5).
    public var monitoringActiveSince: Date?
    public var tuningEndsAt: Date?
    public var contractStart: CalendarDate
    /// As known at the end of `on` (a notice recorded later is left out).
    public var contractPhase: ContractPhase
    public var initialTermEnd: CalendarDate
    /// The end date, once notice was received.
    public var endDate: CalendarDate?
    public var noticeReceivedOn: CalendarDate?
    /// Devices monitored at some time on `on`.
    public var workstations: Int
    public var servers: Int
    /// Candidates and confirmed incidents not yet closed (now, not as of `on`: the views hold the present).
    public var openIncidents: Int
    /// The date the entry describes.
    public var on: CalendarDate

    public init(tenant: Tenant, inventory: DeviceInventory, openIncidents: Int, on date: CalendarDate, clock: BusinessClock = .standard) {
        let contract = Contract(tenant).known(on: date, clock: clock)
        let progress = tenant.onboardingProgress
        let devices = inventory.monitored(between: clock.startOfDay(date), and: clock.startOfDay(after: date))
        tenantID = tenant.id
        name = tenant.name
        package = tenant.package
        sla = tenant.sla
        mdrStatus = tenant.mdrStatus
        onboarding = progress.phase
        monitoringActiveSince = progress.monitoringActiveSince
        tuningEndsAt = progress.tuningEndsAt
        contractStart = tenant.contractStart
        contractPhase = contract.phase(on: date)
        initialTermEnd = contract.initialTermEnd
        endDate = contract.endDate
        noticeReceivedOn = contract.notice?.receivedOn
        workstations = devices.count { $0.kind == .workstation }
        servers = devices.count { $0.kind == .server }
        self.openIncidents = openIncidents
        on = date
    }
}

/// Which customers to list; every field set narrows.
public struct PortfolioFilter: Sendable, Equatable {
    public var phase: ContractPhase?
    public var package: ServicePackage?
    /// Contracts that end before this date (notice received): "which contracts end next month".
    public var endsBefore: CalendarDate?
    public var onboarding: OnboardingPhase?

    public init(phase: ContractPhase? = nil, package: ServicePackage? = nil, endsBefore: CalendarDate? = nil, onboarding: OnboardingPhase? = nil) {
        self.phase = phase
        self.package = package
        self.endsBefore = endsBefore
        self.onboarding = onboarding
    }

    public func matches(_ entry: PortfolioEntry) -> Bool {
        if let phase, entry.contractPhase != phase { return false }
        if let package, entry.package != package { return false }
        if let endsBefore { guard let end = entry.endDate, end < endsBefore else { return false } }
        if let onboarding, entry.onboarding != onboarding { return false }
        return true
    }
}

/// The portfolio as CSV, for a spreadsheet: the same rules as `BillingExport` (RFC 4180, formula-safe fields).
public enum PortfolioExport {
    public static let header = [
        "tenant_id", "tenant_name", "package", "sla", "mdr_status", "onboarding", "monitoring_active_since", "contract_start", "contract_phase",
        "initial_term_end", "end_date", "notice_received_on", "workstations", "servers", "open_incidents", "on",
    ]

    public static func csv(_ entries: [PortfolioEntry]) -> String {
        var out = header.joined(separator: ",") + "\r\n"
        for e in entries {
            let fields = [
                e.tenantID.rawValue, e.name, e.package.rawValue, e.sla.rawValue, e.mdrStatus.rawValue, e.onboarding.rawValue,
                e.monitoringActiveSince.map(Timestamp.format) ?? "", e.contractStart.description, e.contractPhase.rawValue,
                e.initialTermEnd.description, e.endDate?.description ?? "", e.noticeReceivedOn?.description ?? "", String(e.workstations),
                String(e.servers), String(e.openIncidents), e.on.description,
            ]
            out += fields.map(BillingExport.field).joined(separator: ",") + "\r\n"
        }
        return out
    }
}
