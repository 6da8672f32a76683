import Testing

@testable import MDRDomain

/// Roles (DOMAIN.md, "Roles"): who may do what, and on which tenant.
@Suite struct AccessPolicyTests {
    /// The table of DOMAIN.md, written out here rather than read from the code under test.
    static let allowed: [Action: Set<Role>] = [
        .readSecurityViews: [.soc, .dynamic, .customer],
        .readEventLog: [.soc, .dynamic],
        .ingestSignals: [.soc, .connector],
        .triageIncident: [.soc],
        .isolateDevice: [.soc],
        .releaseDevice: [.soc],
        .onboardTenant: [.dynamic],
        .manageTenant: [.dynamic],
        .readTenant: [.soc, .dynamic, .customer],
        .manageSuppressionRules: [.soc],
        .tuneCorrelation: [.soc],
        .readPortfolio: [.soc, .dynamic],
        .readSuppressionRules: [.soc, .dynamic],
        .readConnectors: [.soc, .dynamic],
        .readNotifications: [.soc, .dynamic, .customer],
        .acknowledgeNotification: [.soc, .dynamic, .customer],
        .manageDeviceInventory: [.dynamic, .connector],
        .readDeviceInventory: [.soc, .dynamic, .customer],
        .readBilling: [.dynamic],
    ]

    static func principal(_ role: Role, of tenant: TenantID = Fixtures.acme) -> Principal {
        Principal(id: "\(role.rawValue):1", name: role.rawValue, role: role, tenant: role.isTenantScoped ? tenant : nil)
    }

    @Test func everyActionIsInTheTable() {
        #expect(Set(Action.allCases) == Set(Self.allowed.keys))
    }

    @Test(arguments: Role.allCases, Action.allCases)
    func eachRoleMayDoExactlyWhatTheTableSaysOnItsOwnTenant(role: Role, action: Action) {
        let mayDo = Self.allowed[action]?.contains(role) == true
        #expect(AccessPolicy.roles(for: action).contains(role) == mayDo)
        do {
            try AccessPolicy.authorize(Self.principal(role), action, tenant: Fixtures.acme)
            #expect(mayDo, "\(role) should not be allowed to \(action)")
        } catch {
            #expect(!mayDo, "\(role) should be allowed to \(action)")
            #expect(error.code == .forbidden)
            #expect(error.kind == .forbidden)
        }
    }

    @Test(arguments: Action.allCases)
    func socAndDynamicActOnEveryTenant(action: Action) {
        for role in [Role.soc, .dynamic] where Self.allowed[action]?.contains(role) == true {
            #expect(throws: Never.self) { try AccessPolicy.authorize(Self.principal(role), action, tenant: Fixtures.globex) }
            #expect(throws: Never.self) { try AccessPolicy.authorize(Self.principal(role), action, tenant: nil) }
        }
    }

    @Test func aCustomerAskingAboutAnotherTenantGetsTenantNotFound() {
        let error = #expect(throws: DomainError.self) {
            try AccessPolicy.authorize(Fixtures.customer(of: Fixtures.acme), .readSecurityViews, tenant: Fixtures.globex)
        }
        #expect(error?.code == .tenantNotFound, "another tenant's existence is not revealed")
        #expect(error?.kind == .notFound)
    }

    @Test func aCustomerMayNotReadAcrossTenants() {
        let error = #expect(throws: DomainError.self) {
            try AccessPolicy.authorize(Fixtures.customer(of: Fixtures.acme), .readSecurityViews, tenant: nil)
        }
        #expect(error?.code == .tenantNotFound)
    }

    @Test func aConnectorIngestsIntoItsOwnTenantOnly() {
        #expect(throws: Never.self) {
            try AccessPolicy.authorize(Fixtures.connector(of: Fixtures.acme), .ingestSignals, tenant: Fixtures.acme)
        }
        let error = #expect(throws: DomainError.self) {
            try AccessPolicy.authorize(Fixtures.connector(of: Fixtures.acme), .ingestSignals, tenant: Fixtures.globex)
        }
        #expect(error?.code == .tenantNotFound)
    }

    @Test func aRoleThatMayNotActIsForbiddenEvenOnItsOwnTenant() {
        let error = #expect(throws: DomainError.self) {
            try AccessPolicy.authorize(Fixtures.customer(of: Fixtures.acme), .isolateDevice, tenant: Fixtures.acme)
        }
        #expect(error?.code == .forbidden)
    }

    @Test func onlyCustomersAndConnectorsAreBoundToATenant() {
        #expect(Role.allCases.filter(\.isTenantScoped) == [.customer, .connector])
    }

    @Test func theServiceItselfActsAsDynamic() {
        let system = Principal.system("incident-correlator")
        #expect(system.role == .dynamic)
        #expect(system.tenant == nil)
        #expect(system.id == "system:incident-correlator")
    }
}
