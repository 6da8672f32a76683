import Foundation

/// The route a notification took: who, over which channel, to which address. Recorded with every attempt, so the log
/// shows by itself that (and when, and where) Dynamic was told.
public struct NotificationRouteRecord: Hashable, Sendable, Codable {
    public var recipient: NotificationRecipient
    public var channel: ContactRoute.Channel
    public var address: String

    public init(recipient: NotificationRecipient, channel: ContactRoute.Channel, address: String) {
        self.recipient = recipient
        self.channel = channel
        self.address = address
    }
}

/// What a notification is about, as recorded with its attempts: the payload's type and the ids it names.
public struct NotificationAbout: Hashable, Sendable, Codable {
    /// The payload's type: `incident.confirmed`, `isolation.succeeded`, `sla.breached`, `notification.failed`, …
    public var type: String
    public var incidentID: IncidentID?
    public var deviceID: DeviceID?
    public var priority: Priority?

    public init(type: String, incidentID: IncidentID? = nil, deviceID: DeviceID? = nil, priority: Priority? = nil) {
        self.type = type
        self.incidentID = incidentID
        self.deviceID = deviceID
        self.priority = priority
    }
}

/// One attempt delivered the notification (webhook: 2xx; e-mail: the SMTP server accepted the message).
public struct NotificationDelivered: DomainEventPayload {
    public static let eventType = "NotificationDelivered"
    public var notificationID: String
    public var about: NotificationAbout
    public var route: NotificationRouteRecord
    /// Which attempt it was (1-based).
    public var attempt: Int
    public var deliveredAt: Date

    public init(notificationID: String, about: NotificationAbout, route: NotificationRouteRecord, attempt: Int, deliveredAt: Date) {
        self.notificationID = notificationID
        self.about = about
        self.route = route
        self.attempt = attempt
        self.deliveredAt = deliveredAt
    }
}

/// One attempt failed; another follows at `nextAttemptAt`.
public struct NotificationAttemptFailed: DomainEventPayload {
    public static let eventType = "NotificationAttemptFailed"
    public var notificationID: String
    public var about: NotificationAbout
    public var route: NotificationRouteRecord
    public var attempt: Int
    /// What went wrong, for people: `HTTP 502`, `timeout`, `unreachable: …`, `SMTP 451 …`.
    public var reason: String
    public var attemptedAt: Date
    public var nextAttemptAt: Date
    /// True on the one attempt after which a delivery to a customer cannot arrive within the late bound (15 min) of when
    /// it was due: Dynamic is told (`notification.delayed`) while the retries go on. Absent otherwise.
    public var late: Bool?

    public init(
        notificationID: String, about: NotificationAbout, route: NotificationRouteRecord, attempt: Int, reason: String, attemptedAt: Date,
        nextAttemptAt: Date, late: Bool? = nil
    ) {
        self.late = late
        self.notificationID = notificationID
        self.about = about
        self.route = route
        self.attempt = attempt
        self.reason = reason
        self.attemptedAt = attemptedAt
        self.nextAttemptAt = nextAttemptAt
    }
}

/// The last attempt failed, or the route cannot be used (410 Gone, a permanent SMTP refusal, no signing secret): the
/// notification is given up, and Dynamic is sent a fallback notice (unless it was Dynamic's own route).
public struct NotificationFailed: DomainEventPayload {
    public static let eventType = "NotificationFailed"
    public var notificationID: String
    public var about: NotificationAbout
    public var route: NotificationRouteRecord
    /// The attempts made (0 when the route could not be tried at all).
    public var attempts: Int
    public var reason: String
    public var failedAt: Date

    public init(notificationID: String, about: NotificationAbout, route: NotificationRouteRecord, attempts: Int, reason: String, failedAt: Date) {
        self.notificationID = notificationID
        self.about = about
        self.route = route
        self.attempts = attempts
        self.reason = reason
        self.failedAt = failedAt
    }
}

/// Someone confirmed they saw the notification (through the API). An acknowledged P1 is not sent again.
public struct NotificationAcknowledged: DomainEventPayload {
    public static let eventType = "NotificationAcknowledged"
    public var notificationID: String
    /// The principal's id.
    public var acknowledgedBy: String
    public var acknowledgedAt: Date

    public init(notificationID: String, acknowledgedBy: String, acknowledgedAt: Date) {
        self.notificationID = notificationID
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
    }
}

extension StreamName {
    /// A notification's attempts, its failure and its acknowledgements.
    public static func notification(_ id: String) -> StreamName { StreamName(rawValue: "notification:\(id)") }
}

extension NotificationAbout {
    /// The type of a confirmed incident's notification: its delivery to Dynamic stops the SLA's notify timer.
    public static let incidentConfirmed = "incident.confirmed"
}

extension DomainError.Code {
    /// No notification with that id exists for the tenant (or the principal may not see it).
    public static let notificationNotFound: Self = "notification_not_found"
}

/// Acknowledging a notification: decided on what the outbox knows of it (whether it exists, and to whom it went) and on
/// its stream (whether it was acknowledged already). Pure.
public enum NotificationAcknowledgement {
    /// The facts the decision needs.
    public struct State: Sendable, Equatable {
        public var notificationID: String
        public var recipient: NotificationRecipient
        public var acknowledged: NotificationAcknowledged?

        public init(notificationID: String, recipient: NotificationRecipient, acknowledged: NotificationAcknowledged? = nil) {
            self.notificationID = notificationID
            self.recipient = recipient
            self.acknowledged = acknowledged
        }

        /// Folds the notification's stream.
        public mutating func apply(_ event: DomainEvent) {
            if case .notificationAcknowledged(let e) = event, acknowledged == nil { acknowledged = e }
        }
    }

    /// The acknowledgement to record: none when it was acknowledged before (the first acknowledgement stands). A
    /// customer may acknowledge only what was sent to the customer; Dynamic's notices are not theirs to see.
    public static func decide(_ state: State?, by principal: Principal, at: Date) throws(DomainError) -> [DomainEvent] {
        guard let state, principal.role != .customer || state.recipient != .dynamic else {
            throw DomainError(.notificationNotFound, .notFound, "notification not found")
        }
        guard state.acknowledged == nil else { return [] }
        return [.notificationAcknowledged(NotificationAcknowledged(notificationID: state.notificationID, acknowledgedBy: principal.id, acknowledgedAt: at))]
    }
}
