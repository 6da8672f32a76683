import Foundation
import MDRDomain
import MDRStore

// MARK: - Notifications

extension CommandService {
    /// Records that someone saw a notification (and, for a resent P1, every send of it): an acknowledged P1 is not sent
    /// again. Acknowledging twice records the first acknowledgement only. The result is the acknowledgement that stands.
    public func acknowledgeNotification(tenant: TenantID, notification id: String, context: CommandContext) async throws
        -> CommandOutcome<NotificationAcknowledged>
    {
        try await execute(tenant: tenant, context: context, fingerprint: ["acknowledge-notification", id]) {
            guard let found = try await NotificationOutbox(database: store.database).find(id, tenant: tenant) else {
                throw DomainError(.notificationNotFound, .notFound, "notification not found")
            }
            let stream = StreamName.notification(id)
            let history = try await store.readStream(tenant: tenant, stream)
            var state = NotificationAcknowledgement.State(notificationID: id, recipient: found.entry.route.recipient)
            for event in history { state.apply(try event.decoded()) }
            // A notification and its resends are acknowledged together: one acknowledgement stands for the chain.
            if state.acknowledged == nil, let at = found.acknowledgedAt, let by = found.acknowledgedBy {
                state.acknowledged = NotificationAcknowledged(notificationID: id, acknowledgedBy: by, acknowledgedAt: at)
            }
            let events = try NotificationAcknowledgement.decide(state, by: context.principal, at: time.now())
            for event in events { state.apply(event) }
            guard let acknowledged = state.acknowledged else { throw DomainError(.notificationNotFound, .notFound, "notification not found") }
            return Decision(
                events: events.map { EventToAppend($0, metadata: context.metadata) },
                expectations: [stream: .at(history.last?.version ?? 0)], result: acknowledged)
        }
    }
}
