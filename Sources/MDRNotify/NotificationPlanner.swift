import Foundation
import MDRApplication
import MDRDomain
import MDRStore

/// The event a notification comes from: its id (from which the notification's id is derived, so a replay plans the
/// same ids) and its place in the log.
public struct NotificationCause: Sendable, Hashable {
    public var eventID: UUID
    public var position: Int64

    public init(eventID: UUID, position: Int64) {
        self.eventID = eventID
        self.position = position
    }
}

/// Turns a notified fact into outbox entries: one per route `NotificationRouting` chooses, each with its thin payload.
/// Pure.
///
/// Some deliveries cannot be made by the service itself, or not in time, and become notices to Dynamic instead:
/// - a **phone** route (the customer's after-hours number) becomes a `call.requested` notice to each of Dynamic's
///   routes, naming the number: a person calls the customer;
/// - a delivery to the customer that is **late** (still failing when its next attempt falls more than 15 minutes after
///   it was due: `NotificationAttemptFailed.late`) becomes a `notification.delayed` notice to each of Dynamic's routes,
///   while the retries go on;
/// - a delivery that **failed** for good (`NotificationFailed`) to the customer becomes a `notification.failed` notice
///   to each of Dynamic's routes. A failure on Dynamic's own route has nowhere further to go: it stays in the log,
///   in the metrics and on `GET /v1/tenants/{t}/notifications`.
public struct NotificationPlanner: Sendable {
    /// Dynamic's routes (webhook or e-mail).
    public var dynamic: [ContactRoute]
    /// Office hours, Dutch public holidays.
    public var clock: BusinessClock
    /// The API's public address, for links (`https://mdr.example`).
    public var linkBase: String

    public init(dynamic: [ContactRoute], clock: BusinessClock = .standard, linkBase: String) {
        self.dynamic = dynamic.filter { $0.channel != .phone }
        self.clock = clock
        self.linkBase = linkBase.hasSuffix("/") ? String(linkBase.dropLast()) : linkBase
    }

    /// The entries for `subject`, which happened at `occurredAt` to `tenant`.
    public func entries(for subject: NotificationSubject, occurredAt: Date, tenant: Tenant, cause: NotificationCause) -> [OutboxEntry] {
        let about = Self.about(subject)
        let routes = NotificationRouting.routes(for: subject, occurredAt: occurredAt, tenant: tenant, dynamic: dynamic, clock: clock)
        var entries: [OutboxEntry] = []
        for route in routes {
            let id = Self.notificationID(cause: cause, purpose: about.type, recipient: route.recipient, channel: route.channel, address: route.address)
            if route.channel == .phone {
                for call in dynamic {
                    var details = details(id: "", tenant: tenant.id, about: about)
                    details.regarding = id
                    details.phone = route.address
                    entries.append(
                        entry(
                            purpose: "call.requested", about: about, details: details, recipient: .dynamic, route: call, cause: cause,
                            tenant: tenant.id, occurredAt: occurredAt, sendAt: route.sendAt))
                }
                continue
            }
            var payload = NotificationPayload(notificationID: id, subject: subject, tenant: tenant.id, occurredAt: occurredAt, links: links(tenant.id, about))
            payload.data.notificationID = id
            entries.append(
                OutboxEntry(
                    notificationID: id, tenant: tenant.id, causePosition: cause.position, about: about,
                    route: NotificationRouteRecord(recipient: route.recipient, channel: route.channel, address: route.address),
                    payload: (try? payload.encoded()) ?? Data(), occurredAt: occurredAt, sendAt: route.sendAt))
        }
        return entries
    }

    /// The notices to Dynamic about a notification that could not be delivered to the customer.
    public func fallback(for failure: NotificationFailed, tenant: TenantID, cause: NotificationCause) -> [OutboxEntry] {
        guard failure.route.recipient != .dynamic else { return [] }
        var details = details(id: "", tenant: tenant, about: failure.about)
        details.regarding = failure.notificationID
        details.recipient = failure.route.recipient
        details.reason = String(failure.reason.prefix(300))
        return dynamic.map { route in
            entry(
                purpose: "notification.failed", about: failure.about, details: details, recipient: .dynamic, route: route, cause: cause,
                tenant: tenant, occurredAt: failure.failedAt, sendAt: failure.failedAt)
        }
    }

    /// The notices to Dynamic about a delivery to the customer that is late (`NotificationAttemptFailed.late`): it is
    /// still being tried, but will not arrive within the late bound of when it was due, so someone should call.
    public func delayed(for attempt: NotificationAttemptFailed, tenant: TenantID, cause: NotificationCause) -> [OutboxEntry] {
        guard attempt.route.recipient != .dynamic else { return [] }
        var details = details(id: "", tenant: tenant, about: attempt.about)
        details.regarding = attempt.notificationID
        details.recipient = attempt.route.recipient
        details.reason = String("\(attempt.reason.prefix(250)); still trying, next at \(Timestamp.format(attempt.nextAttemptAt))".prefix(300))
        return dynamic.map { route in
            entry(
                purpose: "notification.delayed", about: attempt.about, details: details, recipient: .dynamic, route: route, cause: cause,
                tenant: tenant, occurredAt: attempt.attemptedAt, sendAt: attempt.attemptedAt)
        }
    }

    /// A resend of an unacknowledged notification: a new notification (new id, so receivers that de-duplicate on
    /// `webhook-id` see it again) that names the one it repeats.
    public static func resend(of original: OutboxEntry, number: Int) -> OutboxEntry {
        let root = original.resendOf ?? original.notificationID
        let id = "\(root).r\(number)"
        var entry = original
        entry.notificationID = id
        entry.resendOf = root
        entry.resendNumber = number
        if var payload = try? NotificationPayload.decode(original.payload) {
            payload.data.notificationID = id
            payload.data.regarding = root
            entry.payload = (try? payload.encoded()) ?? original.payload
        }
        return entry
    }

    /// `ntf_` and 32 hex digits derived from the cause and the route.
    public static func notificationID(
        cause: NotificationCause, purpose: String, recipient: NotificationRecipient, channel: ContactRoute.Channel, address: String
    ) -> String {
        let uuid = derivedUUID("notification", cause.eventID.uuidString, purpose, recipient.rawValue, channel.rawValue, address)
        return "ntf_" + uuid.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// The payload type and ids of a subject.
    public static func about(_ subject: NotificationSubject) -> NotificationAbout {
        switch subject {
        case .incidentConfirmed(let incident, let priority):
            NotificationAbout(type: NotificationAbout.incidentConfirmed, incidentID: incident, priority: priority)
        case .isolation(let device, let step):
            NotificationAbout(type: "isolation.\(step.rawValue)", deviceID: device)
        case .slaBreached(let incident, _, let priority):
            NotificationAbout(type: "sla.breached", incidentID: incident, priority: priority)
        case .fileQuarantine(let device, let incident, let step):
            NotificationAbout(type: "quarantine.\(step.rawValue)", incidentID: incident, deviceID: device)
        }
    }

    func links(_ tenant: TenantID, _ about: NotificationAbout) -> [String: URL] {
        var links: [String: URL] = [:]
        let base = "\(linkBase)/v1/tenants/\(tenant.rawValue)"
        if let incident = about.incidentID {
            links["incident"] = URL(string: "\(base)/incidents/\(incident)")
            if about.type == "sla.breached" { links["sla"] = URL(string: "\(base)/incidents/\(incident)/sla") }
        }
        if let device = about.deviceID,
            let escaped = device.rawValue.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/")))
        {
            links["device"] = URL(string: "\(base)/devices/\(escaped)")
        }
        return links
    }

    func details(id: String, tenant: TenantID, about: NotificationAbout) -> NotificationPayload.Details {
        var details = NotificationPayload.Details(notificationID: id, tenant: tenant, links: links(tenant, about))
        details.incidentID = about.incidentID
        details.deviceID = about.deviceID
        details.priority = about.priority
        return details
    }

    func entry(
        purpose: String, about: NotificationAbout, details: NotificationPayload.Details, recipient: NotificationRecipient, route: ContactRoute,
        cause: NotificationCause, tenant: TenantID, occurredAt: Date, sendAt: Date
    ) -> OutboxEntry {
        let id = Self.notificationID(cause: cause, purpose: purpose, recipient: recipient, channel: route.channel, address: route.address)
        var details = details
        details.notificationID = id
        let payload = NotificationPayload(type: purpose, timestamp: occurredAt, data: details)
        var recorded = about
        recorded.type = purpose
        return OutboxEntry(
            notificationID: id, tenant: tenant, causePosition: cause.position, about: recorded,
            route: NotificationRouteRecord(recipient: recipient, channel: route.channel, address: route.address),
            payload: (try? payload.encoded()) ?? Data(), occurredAt: occurredAt, sendAt: sendAt)
    }
}
