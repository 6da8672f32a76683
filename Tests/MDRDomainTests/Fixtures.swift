import Foundation
import Testing

@testable import MDRDomain

/// Shared values for the domain tests. Times, ids and principals come in as values: the tests have no clock and
/// make no random ids, so every run decides the same.
enum Fixtures {
    // MARK: Time

    /// An instant from its wire form; fixtures use whole milliseconds, as stored.
    static func time(_ raw: String) -> Date {
        guard let date = Timestamp.parse(raw) else { preconditionFailure("bad fixture time \(raw)") }
        return date
    }

    /// Sunday 29 November 2026, 10:15:30 UTC: the moment the scenarios start.
    static let t0 = time("2026-11-29T10:15:30.000Z")
    static func t0(plusMinutes minutes: Double) -> Date { t0.addingTimeInterval(minutes * 60) }

    // MARK: Identifiers

    static let acme = TenantID(rawValue: "acme-bv")!
    static let globex = TenantID(rawValue: "globex")!
    static let ws42 = DeviceID(rawValue: "ws-0042")!
    static let ws43 = DeviceID(rawValue: "ws-0043")!
    static let srv01 = DeviceID(rawValue: "srv-01")!

    /// A fixed incident id: `00000000-0000-0000-0000-0000000000nn`.
    static func incidentID(_ n: Int) -> IncidentID { IncidentID(rawValue: uuid(0x1000 + n)) }
    /// A fixed signal id: `00000000-0000-0000-0000-0000000020nn`.
    static func signalID(_ n: Int) -> SignalID { SignalID(rawValue: uuid(0x2000 + n)) }

    private static func uuid(_ n: Int) -> UUID {
        let hex = String(n, radix: 16)
        return UUID(uuidString: "00000000-0000-0000-0000-" + String(repeating: "0", count: 12 - hex.count) + hex)!
    }

    // MARK: Principals

    static let analyst = Principal(id: "soc:anna", name: "Anna (SOC)", role: .soc, tenant: nil)
    static let dynamicStaff = Principal(id: "dynamic:piet", name: "Piet (Dynamic)", role: .dynamic, tenant: nil)
    static func customer(of tenant: TenantID) -> Principal {
        Principal(id: "customer:\(tenant)", name: "IT at \(tenant)", role: .customer, tenant: tenant)
    }
    static func connector(of tenant: TenantID) -> Principal {
        Principal(id: "connector:\(tenant)", name: "Defender connector \(tenant)", role: .connector, tenant: tenant)
    }

    // MARK: Tenants

    static let primaryContact = Contact(name: "Jan de Vries", email: "jan@acme.example", phone: "+31 20 123 4567")
    static let afterHoursRoute = ContactRoute(channel: .phone, address: "+31 6 1234 5678", note: "on-call IT, 24/7")
    static let consent = InterventionConsent(grantedBy: "Jan de Vries", grantedOn: CalendarDate(year: 2026, month: 11, day: 1)!)
    static let contractStart = CalendarDate(year: 2026, month: 12, day: 1)!

    /// The onboarding command with every agreement in place; tests take one thing away.
    static func onboard(
        _ package: ServicePackage = .compliant, tenant: TenantID = acme, name: String = "Acme B.V.",
        price: Int? = nil, primaryContact: Contact? = primaryContact, afterHoursRoute: ContactRoute? = afterHoursRoute,
        consent: InterventionConsent? = consent, nis2: Bool = false
    ) -> OnboardTenant {
        OnboardTenant(
            tenantID: tenant, name: name, package: package, contractStart: contractStart, pricePerWorkstationCents: price,
            primaryContact: primaryContact, afterHoursRoute: afterHoursRoute, consent: consent, nis2InScope: nis2, at: t0)
    }

    /// A tenant as onboarding makes it (decided and folded, not built by hand).
    static func tenant(_ package: ServicePackage = .compliant, price: Int? = nil, consentOnFile: Bool = true) -> Tenant {
        let events = try! TenantDecider.decide(.onboard(onboard(package, price: price)), nil)
        var tenant = TenantDecider.fold(events)!
        if !consentOnFile { tenant.consent = nil }
        return tenant
    }

    // MARK: Signals

    static func signal(
        alert: String = "da-0001", source: SignalSource = .endpoint, severity: Severity = .high, status: SignalStatus = .new,
        devices: [DeviceID] = [ws42], observedAt: Date = t0
    ) -> Signal {
        Signal(
            source: source, sourceAlertID: alert, severity: severity, status: status, title: "Ransomware behaviour detected",
            observedAt: observedAt, entities: SignalEntities(devices: devices, users: ["anna@acme.example"]),
            mitreTechniques: ["T1486"])
    }

    /// Signal number `n`, as stored: alert `da-000n`, received `n` minutes after `t0`.
    static func ingested(_ n: Int, severity: Severity = .high, devices: [DeviceID] = [ws42]) -> SignalIngested {
        SignalIngested(
            signalID: signalID(n), signal: signal(alert: "da-\(n)", severity: severity, devices: devices),
            receivedAt: t0(plusMinutes: Double(n)))
    }

    // MARK: Incidents

    static func incidentOpened(_ n: Int = 1, devices: [DeviceID] = [ws42], severity: Severity = .high) -> DomainEvent {
        .incidentOpened(
            IncidentOpened(
                incidentID: incidentID(n), signalID: signalID(n), severity: severity, openedAt: t0, priority: .p2, source: .endpoint,
                observedAt: t0, entities: SignalEntities(devices: devices)))
    }

    static func signalAttached(_ incident: Int = 1, signal: Int, devices: [DeviceID] = [ws42], severity: Severity = .high) -> DomainEvent {
        .signalAttached(
            SignalAttached(
                incidentID: incidentID(incident), signalID: signalID(signal), severity: severity, source: .endpoint, observedAt: t0,
                entities: SignalEntities(devices: devices)))
    }

    static func openIncident(_ n: Int = 1, devices: [DeviceID] = [ws42]) -> Incident {
        IncidentDecider.fold([incidentOpened(n, devices: devices)])!
    }

    /// An incident confirmed by the SOC as P1, through the decider.
    static func confirmedIncident(_ n: Int = 1, devices: [DeviceID] = [ws42], priority: Priority = .p1) -> Incident {
        let open = openIncident(n, devices: devices)
        let events = try! IncidentDecider.decide(
            .confirm(
                priority: priority, summary: "Ransomware on \(devices.map(\.rawValue).joined(separator: ", "))", by: analyst,
                at: t0(plusMinutes: 10)),
            open)
        return IncidentDecider.fold(events, from: open)!
    }

    static func dismissedIncident(_ n: Int = 1, devices: [DeviceID] = [ws42]) -> Incident {
        let open = openIncident(n, devices: devices)
        let events = try! IncidentDecider.decide(
            .dismiss(classification: .falsePositive, reason: "admin script", by: analyst, at: t0(plusMinutes: 10)), open)
        return IncidentDecider.fold(events, from: open)!
    }

    static func resolvedIncident(_ n: Int = 1, devices: [DeviceID] = [ws42]) -> Incident {
        let confirmed = confirmedIncident(n, devices: devices)
        let events = try! IncidentDecider.decide(
            .resolve(resolution: "reimaged the workstation", by: analyst, at: t0(plusMinutes: 90)), confirmed)
        return IncidentDecider.fold(events, from: confirmed)!
    }

    // MARK: Devices

    static func isolationRequested(_ device: DeviceID = ws42, incident n: Int = 1) -> DomainEvent {
        .deviceIsolationRequested(
            DeviceIsolationRequested(
                deviceID: device, incidentID: incidentID(n), isolationType: .full, comment: "ransomware, P1",
                requestedBy: analyst.id, requestedAt: t0(plusMinutes: 12)))
    }
    static func isolated(_ device: DeviceID = ws42, incident n: Int = 1) -> DomainEvent {
        .deviceIsolated(DeviceIsolated(deviceID: device, incidentID: incidentID(n), isolatedAt: t0(plusMinutes: 13), edrActionID: "edr-1"))
    }
    static func isolationFailed(_ device: DeviceID = ws42, incident n: Int = 1) -> DomainEvent {
        .deviceIsolationFailed(
            DeviceIsolationFailed(
                deviceID: device, incidentID: incidentID(n), reason: "device offline", failedAt: t0(plusMinutes: 13), edrActionID: "edr-1"))
    }
    static func releaseRequested(_ device: DeviceID = ws42) -> DomainEvent {
        .deviceReleaseRequested(
            DeviceReleaseRequested(deviceID: device, reason: "threat cleaned up", requestedBy: analyst.id, requestedAt: t0(plusMinutes: 60)))
    }
    static func released(_ device: DeviceID = ws42) -> DomainEvent {
        .deviceReleased(DeviceReleased(deviceID: device, releasedAt: t0(plusMinutes: 61), edrActionID: "edr-2"))
    }

    /// A device's decider state after the given history.
    static func device(after history: [DomainEvent]) -> DeviceDecider.State { DeviceDecider.fold(history) }
}

/// Expects `decide` to refuse with `code` (and `kind`, which the edge maps to a status) and to produce no events.
@discardableResult
func expectRefusal(
    _ code: DomainError.Code, _ kind: DomainError.Kind, sourceLocation: SourceLocation = #_sourceLocation,
    _ decide: () throws(DomainError) -> [DomainEvent]
) -> DomainError? {
    var produced: [DomainEvent]?
    let error = #expect(throws: DomainError.self, sourceLocation: sourceLocation) { produced = try decide() }
    #expect(produced == nil, "a refusal appends nothing", sourceLocation: sourceLocation)
    #expect(error?.code == code, sourceLocation: sourceLocation)
    #expect(error?.kind == kind, sourceLocation: sourceLocation)
    #expect(error.map { !$0.message.isEmpty } == true, "the message says what to do next", sourceLocation: sourceLocation)
    return error
}
