import Foundation

/// What a notification is about: the facts Dynamic and the customer are told of (DOMAIN.md, "Notification routing").
public enum NotificationSubject: Hashable, Sendable {
    /// An analyst confirmed an incident. Only P1 and P2 are notified.
    case incidentConfirmed(IncidentID, Priority)
    /// A step of a device's isolation: requested, succeeded, failed, release requested, released, release failed.
    case isolation(DeviceID, IsolationStep)
    /// An SLA target was breached.
    case slaBreached(IncidentID, SlaTargetKind, Priority)
    /// A step of stopping a file's processes and quarantining it (the ransomware case): requested, succeeded, failed.
    case fileQuarantine(DeviceID, IncidentID, QuarantineStep)

    public enum QuarantineStep: String, Hashable, Sendable, Codable {
        case requested, succeeded, failed
    }

    public enum IsolationStep: String, Hashable, Sendable, Codable {
        case requested, succeeded, failed
        case releaseRequested = "release_requested"
        case released
        case releaseFailed = "release_failed"
    }
}

/// Who receives a notification.
public enum NotificationRecipient: String, Hashable, Sendable, Codable {
    /// The managed-service provider: every notified fact.
    case dynamic
    /// The customer's fixed primary contact, within office hours (by e-mail).
    case customerPrimary = "customer_primary"
    /// The customer's agreed after-hours route, outside office hours.
    case customerAfterHours = "customer_after_hours"
}

/// One delivery to make: to whom, over which channel and address, and not before when.
public struct NotificationRoute: Hashable, Sendable {
    public var recipient: NotificationRecipient
    public var channel: ContactRoute.Channel
    public var address: String
    /// Not before this instant: at once, or the next office-hours start for a P2 outside office hours.
    public var sendAt: Date

    public init(recipient: NotificationRecipient, channel: ContactRoute.Channel, address: String, sendAt: Date) {
        self.recipient = recipient
        self.channel = channel
        self.address = address
        self.sendAt = sendAt
    }
}

/// Decides who is told of what, over which route, and when. Pure: the tenant's contacts, Dynamic's routes and the
/// business clock (office hours, Dutch holidays, the tenant's days off) come in as values.
///
/// - Dynamic: every confirmed P1/P2 incident, every isolation step and release, every SLA breach, at once, on each
///   of its routes.
/// - The customer, for confirmed P1/P2 incidents and for isolation and quarantine outcomes of its devices (succeeded, failed,
///   released — an isolated machine stops a colleague working; a mere request is not sent): within office hours the
///   primary contact by e-mail, outside them the agreed after-hours route. P1 and isolation outcomes go at once; a P2
///   confirmed outside office hours goes to the primary contact at the next office-hours start. SLA breaches are
///   between the SOC and Dynamic and are not sent to the customer.
/// - P3 and P4 incidents are not notified.
public enum NotificationRouting {
    public static func routes(
        for subject: NotificationSubject, occurredAt: Date, tenant: Tenant, dynamic: [ContactRoute], clock: BusinessClock
    ) -> [NotificationRoute] {
        let toDynamic = dynamic.map { NotificationRoute(recipient: .dynamic, channel: $0.channel, address: $0.address, sendAt: occurredAt) }
        let inOfficeHours = clock.isWithinOfficeHours(occurredAt)
        let primary = NotificationRoute(recipient: .customerPrimary, channel: .email, address: tenant.primaryContact.email, sendAt: occurredAt)
        let afterHours = NotificationRoute(
            recipient: .customerAfterHours, channel: tenant.afterHoursRoute.channel, address: tenant.afterHoursRoute.address, sendAt: occurredAt)
        let atOnce = inOfficeHours ? primary : afterHours

        switch subject {
        case .incidentConfirmed(_, let priority):
            switch priority {
            case .p1:
                return toDynamic + [atOnce]
            case .p2:
                guard !inOfficeHours else { return toDynamic + [primary] }
                var next = primary
                next.sendAt = clock.nextOfficeHoursStart(after: occurredAt)
                return toDynamic + [next]
            case .p3, .p4:
                return []
            }
        case .isolation(_, let step):
            switch step {
            case .requested, .releaseRequested: return toDynamic
            case .succeeded, .failed, .released, .releaseFailed: return toDynamic + [atOnce]
            }
        case .fileQuarantine(_, _, let step):
            return step == .requested ? toDynamic : toDynamic + [atOnce]
        case .slaBreached:
            return toDynamic
        }
    }
}
