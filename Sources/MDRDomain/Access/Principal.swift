/// The roles of `DOMAIN.md`.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// The SOC partner's analysts: all tenants' security views; ingest; confirm, dismiss, resolve; isolate, release.
    case soc
    /// Dynamic, the managed-service provider: everything `soc` reads; onboarding, contracts, billing, tokens.
    case dynamic
    /// A customer's contact: its own tenant's incidents, isolations, SLA figures and reports.
    case customer
    /// An ingest connector: signals into its own tenant only.
    case connector

    /// Whether the role is bound to one tenant.
    public var isTenantScoped: Bool { self == .customer || self == .connector }
}

/// Who acts: an authenticated principal with a role and, for tenant-scoped roles, its tenant.
public struct Principal: Hashable, Sendable, Codable {
    /// A stable id of the principal (a token's id, or a user's subject), recorded in every event it causes.
    public let id: String
    /// A readable name (the token's name), for the audit trail.
    public let name: String
    public let role: Role
    /// The one tenant a `customer` or `connector` principal may act on; nil for `soc` and `dynamic`.
    public let tenant: TenantID?

    public init(id: String, name: String, role: Role, tenant: TenantID?) {
        self.id = id
        self.name = name
        self.role = role
        self.tenant = tenant
    }

    /// The service itself (process managers, the CLI run by an operator on the server).
    public static func system(_ name: String) -> Principal {
        Principal(id: "system:\(name)", name: name, role: .dynamic, tenant: nil)
    }
}

/// What a principal may do, as named in `DOMAIN.md` (Roles).
public enum Action: String, Sendable, CaseIterable {
    case readSecurityViews
    case readEventLog
    case ingestSignals
    case triageIncident
    case isolateDevice
    case releaseDevice
    case onboardTenant
    /// Onboarding steps 2–5, contacts, consent withdrawal and notice: Dynamic's part of the contract.
    case manageTenant
    case readTenant
    /// Every tenant at a glance (`GET /v1/tenants`): Dynamic's customers, the SOC's watch list.
    case readPortfolio
    case manageSuppressionRules
    case readSuppressionRules
    /// How a tenant's pull connectors (Graph alerts) fare: the SOC's and Dynamic's operations.
    case readConnectors
    /// Per-tenant opening thresholds of the correlator: the SOC's tuning, like suppression rules.
    case tuneCorrelation
    case readNotifications
    case acknowledgeNotification
    /// Enrol and offboard monitored devices: a connector syncing from the EDR, or Dynamic by hand.
    case manageDeviceInventory
    case readDeviceInventory
    case readBilling
}

/// The access policy: a pure function of principal, action and tenant.
public enum AccessPolicy {
    public static func roles(for action: Action) -> Set<Role> {
        switch action {
        case .readSecurityViews: [.soc, .dynamic, .customer]
        case .readEventLog: [.soc, .dynamic]
        case .ingestSignals: [.soc, .connector]
        case .triageIncident, .isolateDevice, .releaseDevice: [.soc]
        case .onboardTenant, .manageTenant: [.dynamic]
        case .readTenant: [.soc, .dynamic, .customer]
        case .readPortfolio: [.soc, .dynamic]
        case .manageSuppressionRules, .tuneCorrelation: [.soc]
        // Tuning is the SOC's business: customers do not see the rules.
        case .readSuppressionRules: [.soc, .dynamic]
        case .readConnectors: [.soc, .dynamic]
        // Customers see (and acknowledge) only what was sent to them; the API filters Dynamic's notices out.
        case .readNotifications, .acknowledgeNotification: [.soc, .dynamic, .customer]
        case .manageDeviceInventory: [.dynamic, .connector]
        case .readDeviceInventory: [.soc, .dynamic, .customer]
        // Prices and amounts are between Dynamic and its customer.
        case .readBilling: [.dynamic]
        }
    }

    /// Refuses with `forbidden` when the role may not do the action, and with `tenant_not_found` when a
    /// tenant-scoped principal asks about another tenant (so that other tenants' existence is not revealed).
    public static func authorize(_ principal: Principal, _ action: Action, tenant: TenantID?) throws(DomainError) {
        guard roles(for: action).contains(principal.role) else {
            throw DomainError(.forbidden, .forbidden, "the role '\(principal.role.rawValue)' may not \(action.rawValue)")
        }
        if principal.role.isTenantScoped {
            guard let tenant, principal.tenant == tenant else {
                throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenant?.rawValue ?? "")' not found")
            }
        }
    }
}
