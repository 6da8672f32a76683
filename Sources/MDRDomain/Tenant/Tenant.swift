import Foundation

/// A tenant as its events make it: the customer organisation, its package and the agreements MDR needs.
public struct Tenant: Hashable, Sendable, Codable {
    public var id: TenantID
    public var name: String
    public var package: ServicePackage
    public var sla: ServiceLevel
    public var mdrStatus: MDRStatus
    public var contractStart: CalendarDate
    /// Veilig only: the quoted price per workstation per month, in euro cents.
    public var pricePerWorkstationCents: Int?
    public var primaryContact: Contact
    public var afterHoursRoute: ContactRoute
    /// Nil once withdrawn: isolation is then refused.
    public var consent: InterventionConsent?
    /// Whether the customer falls under NIS2 (its own reporting deadlines are shown per incident).
    public var nis2InScope: Bool
    public var onboardedAt: Date
    /// Onboarding steps 2–5; nil until the first of them is recorded (and in `TenantOnboarded`, whose stored form
    /// it therefore leaves as it was).
    public var onboarding: OnboardingProgress? = nil
    /// Written notice of termination, once received.
    public var notice: ContractNotice? = nil
    /// The SOC's tuning of which signals open incidents (`OpeningThresholdsSet`); nil or empty: the service's defaults.
    public var openingThresholds: [OpeningThreshold]? = nil

    /// Where onboarding stands (empty progress right after onboarding).
    public var onboardingProgress: OnboardingProgress { onboarding ?? OnboardingProgress() }
}

/// The command to onboard a customer for MDR (step 1 of the seed's "how it works in practice").
public struct OnboardTenant: Sendable, Codable, Equatable {
    public var tenantID: TenantID
    public var name: String
    public var package: ServicePackage
    public var contractStart: CalendarDate
    public var pricePerWorkstationCents: Int?
    public var primaryContact: Contact?
    public var afterHoursRoute: ContactRoute?
    public var consent: InterventionConsent?
    public var nis2InScope: Bool
    public var at: Date

    public init(
        tenantID: TenantID, name: String, package: ServicePackage, contractStart: CalendarDate,
        pricePerWorkstationCents: Int? = nil, primaryContact: Contact?, afterHoursRoute: ContactRoute?,
        consent: InterventionConsent?, nis2InScope: Bool = false, at: Date
    ) {
        self.tenantID = tenantID
        self.name = name
        self.package = package
        self.contractStart = contractStart
        self.pricePerWorkstationCents = pricePerWorkstationCents
        self.primaryContact = primaryContact
        self.afterHoursRoute = afterHoursRoute
        self.consent = consent
        self.nis2InScope = nis2InScope
        self.at = at
    }
}

/// Recorded when a customer is onboarded; carries everything the contract and routing rules need.
public struct TenantOnboarded: DomainEventPayload {
    public static let eventType = "TenantOnboarded"
    public var tenant: Tenant
}

/// The tenant aggregate (stream `tenant`).
public enum TenantDecider: Decider {
    public typealias State = Tenant?
    public enum Command: Sendable {
        case onboard(OnboardTenant)
        /// Step 2: one signal source checked, delivering or missing (with what is missing).
        case recordHealthCheck(source: SignalSource, status: HealthCheckStatus, missing: [String], by: Principal, at: Date)
        /// Step 3: refused unless every source's latest health check found it delivering.
        case completeRollOut(by: Principal, at: Date)
        /// Step 4: refused before the roll-out; starts the tuning period.
        case handOver(tuningDays: Int, by: Principal, at: Date)
        /// Step 5: refused before the hand-over; the date is evidence.
        case activateMonitoring(by: Principal, at: Date)
        /// New primary contact and/or after-hours route, validated as at onboarding.
        case updateContacts(primary: Contact?, afterHoursRoute: ContactRoute?, by: Principal, at: Date)
        /// The customer withdrew its consent to intervene.
        case withdrawConsent(withdrawnBy: String, reason: String, by: Principal, at: Date)
        /// The customer gave its consent again after withdrawing it.
        case grantConsent(InterventionConsent, by: Principal, at: Date)
        /// Written notice of termination received on a date, through a channel.
        case giveNotice(receivedOn: CalendarDate, channel: NoticeChannel, by: Principal, at: Date)
        /// The SOC's tuning: from which severity each named source opens incidents (the others keep the defaults).
        case setOpeningThresholds([OpeningThreshold], reason: String, by: Principal, at: Date)
    }
    public typealias Event = DomainEvent

    public static let initialState: Tenant? = nil
    /// The prices per workstation per month a Veilig contract may quote, in euro cents.
    public static let pricesPerWorkstation: ClosedRange<Int> = 1...10_000_000

    public static func decide(_ command: Command, _ state: Tenant?) throws(DomainError) -> [Event] {
        switch command {
        case .onboard(let c) where state == nil: return [.tenantOnboarded(TenantOnboarded(tenant: try onboard(c, state)))]
        default:
            guard let tenant = state else { throw DomainError(.tenantNotFound, .notFound, "tenant not found: onboard it first") }
            return try decideOnTenant(command, tenant)
        }
    }

    public static func evolve(_ state: Tenant?, _ event: Event) -> Tenant? {
        switch event {
        case .tenantOnboarded(let e): e.tenant
        default: state.map { evolveOnboarded($0, event) }
        }
    }

    private static func onboard(_ c: OnboardTenant, _ state: Tenant?) throws(DomainError) -> Tenant {
        if state != nil {
            throw DomainError(.tenantExists, .conflict, "tenant '\(c.tenantID)' is already onboarded")
        }
        guard let sla = c.package.sla else {
            throw DomainError(
                .mdrNotAvailable, .invalid,
                "MDR is not available with Werkplek Modern: choose Werkplek Compliant (MDR included) or Werkplek Veilig (MDR as an add-on)")
        }
        let name = c.name.trimmingSpaces
        guard !name.isEmpty, name.count <= 200 else {
            throw DomainError(.invalidField, .invalid, "name: the organisation's name (1–200 characters) is required")
        }
        guard let primary = c.primaryContact else {
            throw DomainError(.primaryContactMissing, .invalid, "a fixed primary contact at the customer is required (name and e-mail)")
        }
        guard let route = c.afterHoursRoute else {
            throw DomainError(.afterHoursRouteMissing, .invalid, "an agreed after-hours contact route is required (e-mail, phone or webhook)")
        }
        guard let consent = c.consent, !consent.grantedBy.trimmingSpaces.isEmpty else {
            throw DomainError(.consentMissing, .invalid, "the customer's consent to intervene directly (isolate a device) is required: who gave it and when")
        }
        switch c.package {
        case .veilig:
            guard let price = c.pricePerWorkstationCents else {
                throw DomainError(.priceMissing, .invalid, "Werkplek Veilig: the quoted price per workstation per month (euro cents, > 0) is required")
            }
            // Bounded so that a month's amount (price × workstations) cannot overflow: €100,000 per workstation per month.
            guard Self.pricesPerWorkstation.contains(price) else {
                throw DomainError(
                    .invalidField, .invalid, "pricePerWorkstationCents: euro cents per workstation per month, 1–10000000 (€100,000), not \(price)")
            }
        default:
            guard c.pricePerWorkstationCents == nil else {
                throw DomainError(.priceNotApplicable, .invalid, "Werkplek Compliant includes MDR in the package price: send no price per workstation")
            }
        }
        return Tenant(
            id: c.tenantID, name: name, package: c.package, sla: sla, mdrStatus: c.package.mdrStatus,
            contractStart: c.contractStart, pricePerWorkstationCents: c.pricePerWorkstationCents,
            primaryContact: try primary.validated("primary contact"), afterHoursRoute: try route.validated(),
            consent: consent, nis2InScope: c.nis2InScope, onboardedAt: c.at)
    }
}
