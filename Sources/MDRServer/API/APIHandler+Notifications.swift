import Foundation
import MDRApplication
import MDRDomain
import MDRStore

// MARK: - Notifications

extension APIHandler {
    func listNotifications(_ input: Operations.ListNotifications.Input) async throws -> Operations.ListNotifications.Output {
        let (principal, tenant) = try authorize(.readNotifications, tenant: input.path.tenantId)
        let incident = try input.query.incidentId.map { raw in
            guard let id = IncidentID(raw) else {
                throw DomainError(.invalidField, .invalid, "incidentId: '\(raw.prefix(80))' is not an incident id (a UUID)")
            }
            return id
        }
        let limit = input.query.limit ?? 200
        guard (1...1000).contains(limit) else { throw DomainError(.invalidField, .invalid, "limit must be 1–1000") }
        // A customer sees what was sent to the customer only.
        let recipients: [NotificationRecipient]? = principal.role == .customer ? [.customerPrimary, .customerAfterHours] : nil
        let outbox = NotificationOutbox(database: services.database)
        let queries = services.queries
        let found = try await withinDeadline { () -> [NotificationStatus]? in
            guard try await queries.tenant(tenant) != nil else { return nil }
            return try await outbox.list(tenant: tenant, incident: incident, recipients: recipients, limit: limit)
        }
        guard let found else { throw DomainError.tenantNotFound(tenant.rawValue) }
        return .ok(.init(body: .json(.init(notifications: found.map(Components.Schemas.Notification.init)))))
    }

    func acknowledgeNotification(_ input: Operations.AcknowledgeNotification.Input) async throws -> Operations.AcknowledgeNotification.Output {
        let (principal, tenant) = try authorize(.acknowledgeNotification, tenant: input.path.tenantId)
        let id = input.path.notificationId
        guard !id.isEmpty, id.utf8.count <= 200 else { throw DomainError(.notificationNotFound, .notFound, "notification not found") }
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline {
            try await commands.acknowledgeNotification(tenant: tenant, notification: id, context: context)
        }
        let ack = outcome.result
        return .ok(
            .init(
                headers: .init(idempotentReplayed: replayed(outcome)),
                body: .json(.init(notificationId: id, acknowledgedBy: ack.acknowledgedBy, acknowledgedAt: ack.acknowledgedAt))))
    }
}

extension Components.Schemas.Notification {
    init(_ n: NotificationStatus) {
        let e = n.entry
        self.init(
            notificationId: e.notificationID, _type: e.about.type, recipient: .init(rawValue: e.route.recipient.rawValue)!,
            channel: .init(rawValue: e.route.channel.rawValue)!, address: e.route.address, incidentId: e.about.incidentID?.description,
            deviceId: e.about.deviceID?.rawValue, priority: e.about.priority.flatMap { .init(rawValue: $0.rawValue) }, occurredAt: e.occurredAt,
            sendAt: e.sendAt, status: .init(rawValue: n.state.rawValue)!, attempts: n.attempts, nextAttemptAt: n.nextAttemptAt,
            lastError: n.lastError, deliveredAt: n.deliveredAt, failedAt: n.failedAt, acknowledgedAt: n.acknowledgedAt,
            acknowledgedBy: n.acknowledgedBy, resendOf: e.resendOf)
    }
}
