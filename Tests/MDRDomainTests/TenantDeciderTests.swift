import Foundation
import Testing

@testable import MDRDomain

/// Onboarding (DOMAIN.md, "Packages, SLA and price" and "Onboarding" step 1).
@Suite struct TenantDeciderTests {
    private func onboarded(_ command: OnboardTenant) throws -> Tenant {
        let events = try TenantDecider.decide(.onboard(command), nil)
        #expect(events.count == 1)
        guard case .tenantOnboarded(let e)? = events.first else {
            Issue.record("expected TenantOnboarded, got \(events)")
            throw DomainError(.invalidField, .invalid, "no TenantOnboarded")
        }
        return e.tenant
    }

    // MARK: Packages

    @Test func onboardingCompliantGivesSlaAWithMdrIncluded() throws {
        let tenant = try onboarded(Fixtures.onboard(.compliant))
        #expect(tenant.package == .compliant)
        #expect(tenant.sla == .a)
        #expect(tenant.mdrStatus == .included)
        #expect(tenant.pricePerWorkstationCents == nil)
    }

    @Test func onboardingVeiligGivesSlaBAsAnAddOnWithThePriceInCents() throws {
        let tenant = try onboarded(Fixtures.onboard(.veilig, price: 1_250))
        #expect(tenant.package == .veilig)
        #expect(tenant.sla == .b)
        #expect(tenant.mdrStatus == .addOn)
        #expect(tenant.mdrStatus.rawValue == "add_on")
        #expect(tenant.pricePerWorkstationCents == 1_250)
    }

    @Test func onboardingModernIsRefusedWithMdrNotAvailable() {
        let error = expectRefusal(.mdrNotAvailable, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.onboard(Fixtures.onboard(.modern)), nil)
        }
        #expect(error?.message.contains("Compliant") == true, "the message names the packages that do include MDR")
    }

    @Test func modernPackageHasNoSlaAndMdrNotAvailable() {
        #expect(ServicePackage.modern.sla == nil)
        #expect(ServicePackage.modern.mdrStatus == .notAvailable)
        #expect(ServicePackage.modern.mdrStatus.rawValue == "not_available")
    }

    // MARK: The three agreements

    @Test func onboardingIsRefusedWithoutAPrimaryContact() {
        expectRefusal(.primaryContactMissing, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.onboard(Fixtures.onboard(primaryContact: nil)), nil)
        }
    }

    @Test func onboardingIsRefusedWithoutAnAfterHoursRoute() {
        expectRefusal(.afterHoursRouteMissing, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.onboard(Fixtures.onboard(afterHoursRoute: nil)), nil)
        }
    }

    @Test func onboardingIsRefusedWithoutConsentToIntervene() {
        expectRefusal(.consentMissing, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.onboard(Fixtures.onboard(consent: nil)), nil)
        }
    }

    @Test func onboardingIsRefusedWhenNobodyIsNamedAsGivingConsent() {
        let anonymous = InterventionConsent(grantedBy: "   ", grantedOn: Fixtures.consent.grantedOn)
        expectRefusal(.consentMissing, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.onboard(Fixtures.onboard(consent: anonymous)), nil)
        }
    }

    // MARK: Existing tenant

    @Test func onboardingAnExistingTenantIsRefused() {
        let existing = Fixtures.tenant()
        expectRefusal(.tenantExists, .conflict) { () throws(DomainError) in
            try TenantDecider.decide(.onboard(Fixtures.onboard(.veilig, price: 900)), existing)
        }
    }

    // MARK: Price rules

    @Test func onboardingVeiligIsRefusedWithoutAPrice() {
        expectRefusal(.priceMissing, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.onboard(Fixtures.onboard(.veilig, price: nil)), nil)
        }
    }

    /// Outside 1 … 10,000,000 cents: not positive, or so large that a month's amount would overflow (Int.max was
    /// accepted, and billing a month of it trapped).
    @Test(arguments: [0, -100, Int.min, 10_000_001, Int.max])
    func onboardingVeiligIsRefusedWithAPriceOutsideItsRange(price: Int) {
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.onboard(Fixtures.onboard(.veilig, price: price)), nil)
        }
    }

    @Test(arguments: [1, 10_000_000])
    func onboardingVeiligTakesThePricesAtTheEdgesOfItsRange(price: Int) throws {
        let events = try TenantDecider.decide(.onboard(Fixtures.onboard(.veilig, price: price)), nil)
        #expect(events.count == 1)
    }

    @Test func onboardingCompliantIsRefusedWithAPriceSinceMdrIsIncluded() {
        expectRefusal(.priceNotApplicable, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.onboard(Fixtures.onboard(.compliant, price: 1_250)), nil)
        }
    }

    // MARK: Validation of what is given

    @Test(arguments: ["", "   ", String(repeating: "x", count: 201)])
    func onboardingIsRefusedWithoutAnOrganisationName(name: String) {
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.onboard(Fixtures.onboard(name: name)), nil)
        }
    }

    @Test(arguments: [
        Contact(name: "", email: "jan@acme.example"),
        Contact(name: "Jan", email: "jan"),
        Contact(name: "Jan", email: "jan@localhost"),
        Contact(name: "Jan", email: "jan de vries@acme.example"),
        Contact(name: "Jan", email: "@acme.example"),
    ])
    func onboardingIsRefusedWithAnInvalidPrimaryContact(contact: Contact) {
        expectRefusal(.invalidContact, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.onboard(Fixtures.onboard(primaryContact: contact)), nil)
        }
    }

    @Test(arguments: [
        ContactRoute(channel: .phone, address: "call Jan"),
        ContactRoute(channel: .phone, address: "123"),
        ContactRoute(channel: .email, address: "oncall"),
        ContactRoute(channel: .webhook, address: "ftp://hooks.acme.example/mdr"),
    ])
    func onboardingIsRefusedWithAnInvalidAfterHoursRoute(route: ContactRoute) {
        expectRefusal(.invalidContact, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.onboard(Fixtures.onboard(afterHoursRoute: route)), nil)
        }
    }

    @Test func onboardingRecordsTrimmedContactsAndTheAgreements() throws {
        let command = Fixtures.onboard(
            name: "  Acme B.V. ",
            primaryContact: Contact(name: " Jan de Vries ", email: " jan@acme.example ", phone: "  "),
            afterHoursRoute: ContactRoute(channel: .webhook, address: " https://hooks.acme.example/mdr ", note: ""),
            nis2: true)
        let tenant = try onboarded(command)
        #expect(tenant.id == Fixtures.acme)
        #expect(tenant.name == "Acme B.V.")
        #expect(tenant.primaryContact == Contact(name: "Jan de Vries", email: "jan@acme.example", phone: nil))
        #expect(tenant.afterHoursRoute == ContactRoute(channel: .webhook, address: "https://hooks.acme.example/mdr", note: nil))
        #expect(tenant.consent == Fixtures.consent)
        #expect(tenant.contractStart == Fixtures.contractStart)
        #expect(tenant.nis2InScope)
        #expect(tenant.onboardedAt == Fixtures.t0)
    }

    @Test func anOnboardedEventMakesTheTenant() throws {
        let events = try TenantDecider.decide(.onboard(Fixtures.onboard(.veilig, price: 900)), nil)
        let state = TenantDecider.fold(events)
        #expect(state?.id == Fixtures.acme)
        #expect(state?.sla == .b)
        #expect(events.map(\.stream) == [.tenant])
    }

    @Test func eventsOfOtherAggregatesLeaveTheTenantUnchanged() {
        let tenant = Fixtures.tenant()
        #expect(TenantDecider.evolve(tenant, Fixtures.incidentOpened()) == tenant)
        #expect(TenantDecider.evolve(nil, Fixtures.incidentOpened()) == nil)
    }
}
