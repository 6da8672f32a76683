import Foundation
import Testing

@testable import MDRDomain

/// Onboarding steps 2–5 (DOMAIN.md, "Onboarding"), contacts and consent on the tenant stream.
@Suite struct OnboardingDeciderTests {
    let by = Fixtures.dynamicStaff
    let at = Fixtures.t0

    func decide(_ command: TenantDecider.Command, _ state: Tenant?) throws(DomainError) -> [DomainEvent] {
        try TenantDecider.decide(command, state)
    }

    /// `tenant` after `commands`, each decided and folded in turn.
    func after(_ commands: [TenantDecider.Command], from tenant: Tenant = Fixtures.tenant()) throws -> Tenant {
        var state: Tenant? = tenant
        for command in commands { state = TenantDecider.fold(try decide(command, state), from: state) }
        return try #require(state)
    }

    func check(_ source: SignalSource, _ status: HealthCheckStatus = .delivering, missing: [String] = []) -> TenantDecider.Command {
        .recordHealthCheck(source: source, status: status, missing: missing, by: by, at: at)
    }

    var allDelivering: [TenantDecider.Command] { SignalSource.allCases.map { check($0) } }

    // MARK: Health checks

    @Test func aHealthCheckIsRecordedPerSourceWithWhatIsMissing() throws {
        let events = try decide(check(.microsoft365, .missing, missing: [" mail ", "sign-ins", "mail"]), Fixtures.tenant())
        #expect(events == [
            .healthCheckRecorded(
                HealthCheckRecorded(source: .microsoft365, status: .missing, missing: ["mail", "sign-ins"], checkedBy: by.id, checkedAt: at))
        ])
        #expect(events.map(\.stream) == [.tenant])
        let tenant = try after([check(.microsoft365, .missing, missing: ["mail"])])
        #expect(tenant.onboardingProgress.healthCheck(.microsoft365)?.missing == ["mail"])
        #expect(tenant.onboardingProgress.phase == .onboarded)
    }

    @Test func theLatestHealthCheckOfASourceCounts() throws {
        let tenant = try after([check(.firewall, .missing, missing: ["syslog"]), check(.firewall)])
        #expect(tenant.onboardingProgress.healthChecks.count == 1)
        #expect(tenant.onboardingProgress.healthCheck(.firewall)?.status == .delivering)
    }

    @Test func aDeliveringSourceWithSomethingMissingIsRefused() {
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in
            try decide(check(.endpoint, .delivering, missing: ["sensor"]), Fixtures.tenant())
        }
    }

    @Test func aHealthCheckForATenantNotOnboardedIsRefused() {
        expectRefusal(.tenantNotFound, .notFound) { () throws(DomainError) in try decide(check(.endpoint), nil) }
    }

    // MARK: Roll-out

    @Test func rollOutIsRefusedUntilEverySourceIsDeliveringAndNamesTheOthers() throws {
        let partial = try after([check(.endpoint), check(.microsoft365, .missing, missing: ["mail"]), check(.antivirus)])
        let error = expectRefusal(.sourcesMissing, .conflict) { () throws(DomainError) in
            try decide(.completeRollOut(by: by, at: at), partial)
        }
        #expect(error?.message.contains("microsoft365, firewall") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("endpoint") == false)
    }

    @Test func rollOutCompletesWhenEverySourceDelivers() throws {
        let tenant = try after(allDelivering + [.completeRollOut(by: by, at: at)])
        #expect(tenant.onboardingProgress.rolledOutAt == at)
        #expect(tenant.onboardingProgress.phase == .rolledOut)
        expectRefusal(.rollOutAlreadyCompleted, .conflict) { () throws(DomainError) in
            try decide(.completeRollOut(by: by, at: at), tenant)
        }
    }

    // MARK: Hand-over and monitoring

    @Test func handOverIsRefusedBeforeTheRollOut() {
        expectRefusal(.rollOutNotCompleted, .conflict) { () throws(DomainError) in
            try decide(.handOver(tuningDays: 30, by: by, at: at), Fixtures.tenant())
        }
    }

    @Test func handOverStartsATuningPeriodOfTheGivenDays() throws {
        let tenant = try after(allDelivering + [.completeRollOut(by: by, at: at), .handOver(tuningDays: 30, by: by, at: at)])
        #expect(tenant.onboardingProgress.phase == .handedOver)
        #expect(tenant.onboardingProgress.tuningDays == 30)
        #expect(tenant.onboardingProgress.tuningEndsAt == at.addingTimeInterval(30 * 86_400))
        expectRefusal(.alreadyHandedOver, .conflict) { () throws(DomainError) in try decide(.handOver(tuningDays: 30, by: by, at: at), tenant) }
    }

    @Test func aTuningPeriodOutsideOneToAYearIsRefused() throws {
        let rolledOut = try after(allDelivering + [.completeRollOut(by: by, at: at)])
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in try decide(.handOver(tuningDays: 0, by: by, at: at), rolledOut) }
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in try decide(.handOver(tuningDays: 366, by: by, at: at), rolledOut) }
    }

    @Test func monitoringIsRefusedBeforeTheHandOverAndItsDateIsKept() throws {
        let rolledOut = try after(allDelivering + [.completeRollOut(by: by, at: at)])
        expectRefusal(.notHandedOver, .conflict) { () throws(DomainError) in try decide(.activateMonitoring(by: by, at: at), rolledOut) }
        let later = at.addingTimeInterval(3600)
        let active = try after([.handOver(tuningDays: 30, by: by, at: at), .activateMonitoring(by: by, at: later)], from: rolledOut)
        #expect(active.onboardingProgress.monitoringActiveSince == later)
        #expect(active.onboardingProgress.phase == .monitoringActive)
        expectRefusal(.monitoringAlreadyActive, .conflict) { () throws(DomainError) in try decide(.activateMonitoring(by: by, at: at), active) }
    }

    // MARK: Contacts

    @Test func contactsAreUpdatedAfterValidation() throws {
        let route = ContactRoute(channel: .email, address: " soc@acme.example ")
        let tenant = try after([.updateContacts(primary: nil, afterHoursRoute: route, by: by, at: at)])
        #expect(tenant.afterHoursRoute == ContactRoute(channel: .email, address: "soc@acme.example"))
        #expect(tenant.primaryContact == Fixtures.primaryContact, "a contact not sent is unchanged")
    }

    @Test func invalidContactsAreRefusedAsAtOnboarding() {
        expectRefusal(.invalidContact, .invalid) { () throws(DomainError) in
            try decide(
                .updateContacts(primary: Contact(name: "Jan", email: "not-an-address"), afterHoursRoute: nil, by: by, at: at), Fixtures.tenant())
        }
        expectRefusal(.invalidContact, .invalid) { () throws(DomainError) in
            try decide(
                .updateContacts(primary: nil, afterHoursRoute: ContactRoute(channel: .webhook, address: "ftp://x"), by: by, at: at),
                Fixtures.tenant())
        }
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in
            try decide(.updateContacts(primary: nil, afterHoursRoute: nil, by: by, at: at), Fixtures.tenant())
        }
    }

    @Test func theSameContactsAgainRecordNothing() throws {
        #expect(try decide(.updateContacts(primary: Fixtures.primaryContact, afterHoursRoute: nil, by: by, at: at), Fixtures.tenant()) == [])
    }

    // MARK: Consent

    @Test func withdrawingConsentRemovesItAndIsolationIsThenRefused() throws {
        let withdrawn = try after([.withdrawConsent(withdrawnBy: "Jan de Vries", reason: "board decision", by: by, at: at)])
        #expect(withdrawn.consent == nil)
        let isolate = DeviceDecider.Command.isolate(
            deviceID: Fixtures.ws42, incident: Fixtures.confirmedIncident(), tenant: withdrawn, type: .full, comment: "ransomware",
            by: Fixtures.analyst, at: at)
        expectRefusal(.consentMissing, .conflict) { () throws(DomainError) in try DeviceDecider.decide(isolate, DeviceDecider.initialState) }
        // The same isolation with consent on file is requested.
        let withConsent = DeviceDecider.Command.isolate(
            deviceID: Fixtures.ws42, incident: Fixtures.confirmedIncident(), tenant: Fixtures.tenant(), type: .full, comment: "ransomware",
            by: Fixtures.analyst, at: at)
        #expect(try DeviceDecider.decide(withConsent, DeviceDecider.initialState).count == 1)
    }

    @Test func withdrawingConsentTwiceOrWithoutAReasonIsRefused() throws {
        expectRefusal(.reasonMissing, .invalid) { () throws(DomainError) in
            try decide(.withdrawConsent(withdrawnBy: "Jan de Vries", reason: " ", by: by, at: at), Fixtures.tenant())
        }
        let withdrawn = try after([.withdrawConsent(withdrawnBy: "Jan de Vries", reason: "board decision", by: by, at: at)])
        expectRefusal(.consentAlreadyWithdrawn, .conflict) { () throws(DomainError) in
            try decide(.withdrawConsent(withdrawnBy: "Jan de Vries", reason: "again", by: by, at: at), withdrawn)
        }
    }

    @Test func consentGivenAgainAfterWithdrawalAllowsIsolationAgain() throws {
        let withdrawn = try after([.withdrawConsent(withdrawnBy: "Jan de Vries", reason: "board decision", by: by, at: at)])
        let given = InterventionConsent(grantedBy: " Jan de Vries ", grantedOn: CalendarDate("2026-11-20")!)
        let events = try decide(.grantConsent(given, by: by, at: at), withdrawn)
        #expect(events == [
            .consentGranted(ConsentGranted(consent: InterventionConsent(grantedBy: "Jan de Vries", grantedOn: CalendarDate("2026-11-20")!), recordedBy: by.id, recordedAt: at))
        ])
        let regranted = try #require(TenantDecider.fold(events, from: withdrawn))
        #expect(regranted.consent?.grantedOn == CalendarDate("2026-11-20")!)
        let isolate = DeviceDecider.Command.isolate(
            deviceID: Fixtures.ws42, incident: Fixtures.confirmedIncident(), tenant: regranted, type: .full, comment: "ransomware",
            by: Fixtures.analyst, at: at)
        #expect(try DeviceDecider.decide(isolate, DeviceDecider.initialState).count == 1)
    }

    @Test func consentIsGrantedOnlyWhenNoneIsOnFileAndNotForTheFuture() throws {
        let given = InterventionConsent(grantedBy: "Jan de Vries", grantedOn: CalendarDate("2026-11-20")!)
        expectRefusal(.consentAlreadyOnFile, .conflict) { () throws(DomainError) in
            try decide(.grantConsent(given, by: by, at: at), Fixtures.tenant())
        }
        let withdrawn = try after([.withdrawConsent(withdrawnBy: "Jan de Vries", reason: "board decision", by: by, at: at)])
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in
            try decide(.grantConsent(InterventionConsent(grantedBy: " ", grantedOn: CalendarDate("2026-11-20")!), by: by, at: at), withdrawn)
        }
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in
            try decide(.grantConsent(InterventionConsent(grantedBy: "Jan", grantedOn: CalendarDate("2027-01-01")!), by: by, at: at), withdrawn)
        }
    }

    // MARK: Stored form

    @Test func aTenantOnboardedEventStoredBeforeOnboardingProgressStillDecodes() throws {
        let event = DomainEvent.tenantOnboarded(TenantOnboarded(tenant: Fixtures.tenant()))
        let json = String(decoding: EventCodec.encode(event), as: UTF8.self)
        #expect(!json.contains("onboarding") && !json.contains("notice"), "the stored form is unchanged: \(json)")
        #expect(try EventCodec.decode(type: "TenantOnboarded", schemaVersion: 1, data: Data(json.utf8)) == event)
    }
}
