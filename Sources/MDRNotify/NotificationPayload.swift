import Foundation
import MDRDomain

/// The body of a notification: thin by design. It names what happened and where to look — ids, priority, tenant,
/// links into the portal/API — and carries no signal content (no hosts' logs, file names, user names or alert text),
/// so a leaked or misrouted notification discloses nothing beyond the fact of an incident.
///
/// The shape follows the Standard Webhooks payload recommendation: `type`, `timestamp`, `data`. Encoded as the
/// service's one JSON form (`JSONCoding`: sorted keys, ISO 8601 times with milliseconds, as the API), so the same
/// notification always yields the same bytes.
public struct NotificationPayload: Codable, Hashable, Sendable {
    /// What happened, dotted: `incident.confirmed`, `isolation.succeeded`, `sla.breached`, …
    public var type: String
    /// When it happened (not when it was sent).
    public var timestamp: Date
    /// The ids and links.
    public var data: Details

    /// The ids and links of a notification.
    public struct Details: Codable, Hashable, Sendable {
        /// The notification's id; also the `webhook-id` of every attempt to deliver it (receivers de-duplicate on it).
        public var notificationID: String
        /// The customer the notification concerns.
        public var tenant: TenantID
        /// The incident, for incident and SLA notifications.
        public var incidentID: IncidentID?
        /// The device, for isolation notifications.
        public var deviceID: DeviceID?
        /// The incident's priority, where there is one.
        public var priority: Priority?
        /// The breached SLA target, for `sla.breached`.
        public var slaTarget: SlaTargetKind?
        /// Where to look, by name (`incident`, `device`, …): URLs into the API or portal.
        public var links: [String: URL]
        /// For `notification.failed` and `call.requested`: the notification this one is about.
        public var regarding: String?
        /// For `notification.failed`: who could not be reached.
        public var recipient: NotificationRecipient?
        /// For `notification.failed`: why (`HTTP 502`, `timeout`, `SMTP 550 …`).
        public var reason: String?
        /// For `call.requested`: the customer's agreed after-hours phone number, which Dynamic is asked to call.
        public var phone: String?

        enum CodingKeys: String, CodingKey {
            case notificationID = "notification_id"
            case tenant
            case incidentID = "incident_id"
            case deviceID = "device_id"
            case priority
            case slaTarget = "sla_target"
            case links
            case regarding
            case recipient
            case reason
            case phone
        }
    }

    /// A payload of any type with the given details.
    public init(type: String, timestamp: Date, data: Details) {
        self.type = type
        self.timestamp = timestamp
        self.data = data
    }

    /// A payload for `subject`, which happened at `occurredAt` for `tenant`.
    public init(notificationID: String, subject: NotificationSubject, tenant: TenantID, occurredAt: Date, links: [String: URL]) {
        var details = Details(notificationID: notificationID, tenant: tenant, links: links)
        switch subject {
        case .incidentConfirmed(let incident, let priority):
            type = "incident.confirmed"
            details.incidentID = incident
            details.priority = priority
        case .isolation(let device, let step):
            type = "isolation.\(step.rawValue)"
            details.deviceID = device
        case .fileQuarantine(let device, let incident, let step):
            type = "quarantine.\(step.rawValue)"
            details.deviceID = device
            details.incidentID = incident
        case .slaBreached(let incident, let target, let priority):
            type = "sla.breached"
            details.incidentID = incident
            details.priority = priority
            details.slaTarget = target
        }
        self.timestamp = occurredAt
        self.data = details
    }

    /// The JSON body: sorted keys, ISO 8601 times with milliseconds, absent fields left out.
    public func encoded() throws -> Data {
        try JSONCoding.encoder().encode(self)
    }

    /// Decodes a body made by ``encoded()`` (also one stored before times carried milliseconds).
    public static func decode(_ data: Data) throws -> NotificationPayload {
        try JSONCoding.decoder().decode(NotificationPayload.self, from: data)
    }
}

extension NotificationPayload.Details {
    /// Details naming only the notification, the tenant and the links; the rest is set field by field.
    public init(notificationID: String, tenant: TenantID, links: [String: URL]) {
        self.notificationID = notificationID
        self.tenant = tenant
        self.links = links
    }
}
