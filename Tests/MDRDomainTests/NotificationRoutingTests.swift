import Foundation
import Testing

@testable import MDRDomain

/// Notification routing (DOMAIN.md, "Notification routing"; "Office hours and holidays"): Dynamic always; the
/// customer's primary contact within office hours, the after-hours route outside them; P2 outside office hours at the
/// next office-hours start.
@Suite struct NotificationRoutingTests {
    static let tenant = Fixtures.tenant()
    static let dynamic = [
        ContactRoute(channel: .webhook, address: "https://soc-intake.dynamic.example/hooks/mdr"),
        ContactRoute(channel: .email, address: "soc@dynamic.example"),
    ]
    static let incident = Fixtures.incidentID(1)

    static func routes(_ subject: NotificationSubject, at raw: String) -> [NotificationRoute] {
        NotificationRouting.routes(for: subject, occurredAt: Fixtures.time(raw), tenant: tenant, dynamic: dynamic, clock: .standard)
    }

    static func customer(_ routes: [NotificationRoute]) -> [NotificationRoute] { routes.filter { $0.recipient != .dynamic } }

    @Test func aP1WithinOfficeHoursGoesToDynamicAndThePrimaryContactAtOnce() {
        // Tuesday 1 December 2026, 10:00 in Amsterdam (09:00 UTC).
        let routes = Self.routes(.incidentConfirmed(Self.incident, .p1), at: "2026-12-01T09:00:00Z")
        #expect(routes.filter { $0.recipient == .dynamic }.map(\.address) == Self.dynamic.map(\.address))
        #expect(Self.customer(routes) == [
            NotificationRoute(recipient: .customerPrimary, channel: .email, address: "jan@acme.example", sendAt: Fixtures.time("2026-12-01T09:00:00Z"))
        ])
        #expect(routes.allSatisfy { $0.sendAt == Fixtures.time("2026-12-01T09:00:00Z") })
    }

    @Test(arguments: [
        "2026-12-01T17:00:00Z",  // Tuesday 18:00 in Amsterdam: after closing
        "2026-11-29T10:15:30Z",  // Sunday
        "2026-12-25T10:00:00Z",  // Eerste Kerstdag
        "2027-04-27T09:00:00Z",  // Koningsdag, a Tuesday
    ])
    func aP1OutsideOfficeHoursGoesToTheAfterHoursRouteAtOnce(at raw: String) {
        let customer = Self.customer(Self.routes(.incidentConfirmed(Self.incident, .p1), at: raw))
        #expect(customer.map(\.recipient) == [.customerAfterHours])
        #expect(customer.first?.channel == .phone)
        #expect(customer.first?.address == "+31 6 1234 5678")
        #expect(customer.first?.sendAt == Fixtures.time(raw))
    }

    @Test func aP2OutsideOfficeHoursReachesTheCustomerAtTheNextOpeningAndDynamicAtOnce() {
        // Friday 4 December 2026, 20:00 in Amsterdam → Monday 7 December, 08:00 (07:00 UTC).
        let routes = Self.routes(.incidentConfirmed(Self.incident, .p2), at: "2026-12-04T19:00:00Z")
        #expect(routes.filter { $0.recipient == .dynamic }.allSatisfy { $0.sendAt == Fixtures.time("2026-12-04T19:00:00Z") })
        #expect(Self.customer(routes) == [
            NotificationRoute(recipient: .customerPrimary, channel: .email, address: "jan@acme.example", sendAt: Fixtures.time("2026-12-07T07:00:00Z"))
        ])
    }

    @Test func aP2OnTheEveningBeforeEasterWaitsForTheTuesdayAfterAndDaylightSavingDoesNotShiftIt() {
        // Saturday 27 March 2027, 21:00 CET; Easter Sunday and Monday (28–29 March) are holidays, summer time starts on
        // the 28th: Tuesday 30 March, 08:00 CEST = 06:00 UTC.
        let routes = Self.routes(.incidentConfirmed(Self.incident, .p2), at: "2027-03-27T20:00:00Z")
        #expect(Self.customer(routes).map(\.sendAt) == [Fixtures.time("2027-03-30T06:00:00Z")])
    }

    @Test func aP2WithinOfficeHoursGoesToThePrimaryContactAtOnce() {
        let customer = Self.customer(Self.routes(.incidentConfirmed(Self.incident, .p2), at: "2026-12-01T09:00:00Z"))
        #expect(customer.map(\.recipient) == [.customerPrimary])
        #expect(customer.map(\.sendAt) == [Fixtures.time("2026-12-01T09:00:00Z")])
    }

    @Test(arguments: [Priority.p3, .p4])
    func p3AndP4AreNotNotified(priority: Priority) {
        #expect(Self.routes(.incidentConfirmed(Self.incident, priority), at: "2026-12-01T09:00:00Z").isEmpty)
    }

    @Test func isolationOutcomesReachTheCustomerRequestsAndBreachesOnlyDynamic() {
        let at = "2026-12-01T21:00:00Z"
        for step in [NotificationSubject.IsolationStep.succeeded, .failed, .released] {
            #expect(Self.customer(Self.routes(.isolation(Fixtures.ws42, step), at: at)).map(\.recipient) == [.customerAfterHours], "\(step)")
        }
        for subject in [
            NotificationSubject.isolation(Fixtures.ws42, .requested), .isolation(Fixtures.ws42, .releaseRequested),
            .slaBreached(Self.incident, .contain, .p1),
        ] {
            let routes = Self.routes(subject, at: at)
            #expect(routes.map(\.recipient) == [.dynamic, .dynamic], "\(subject)")
        }
    }
}
