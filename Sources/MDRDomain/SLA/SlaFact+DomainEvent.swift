import Foundation

extension SlaFact {
    /// The stored types of the events `from(_:)` maps: what a reader of SLA timers must have seen before it decides
    /// that a deadline passed.
    public static let eventTypes: [String] = [
        IncidentOpened.eventType, IncidentPriorityRaised.eventType, IncidentConfirmed.eventType, IncidentDismissed.eventType,
        IncidentResolved.eventType, IncidentAbsorbed.eventType, IncidentMerged.eventType, DeviceIsolated.eventType, FileQuarantined.eventType, NotificationDelivered.eventType,
    ]

    /// The incident an event concerns and the SLA fact it is, or nil for events that move no timer.
    ///
    /// `DeviceIsolated` and `FileQuarantined` name the incident they were requested for (isolation is refused without a confirmed incident
    /// that involves the device), so no other incident context is needed: containment counts for that incident.
    /// `NotificationDelivered` stops the notify timer when it is the confirmation of an incident delivered to Dynamic:
    /// the first successful attempt on any of Dynamic's routes.
    public static func from(_ event: DomainEvent) -> (incidentID: IncidentID, fact: SlaFact)? {
        switch event {
        case .incidentOpened(let e): (e.incidentID, .opened(at: e.openedAt, priority: e.priority))
        case .incidentPriorityRaised(let e): (e.incidentID, .priorityChanged(to: e.to, at: e.raisedAt))
        case .incidentConfirmed(let e): (e.incidentID, .confirmed(priority: e.priority, at: e.confirmedAt))
        case .incidentDismissed(let e): (e.incidentID, .dismissed(at: e.dismissedAt))
        case .incidentResolved(let e): (e.incidentID, .resolved(at: e.resolvedAt))
        // A merge raises the remaining candidate's priority to the merged one's, if that was higher.
        case .incidentAbsorbed(let e): e.candidatePriority.map { (e.incidentID, .priorityChanged(to: $0, at: e.mergedAt)) }
        case .incidentMerged(let e): (e.incidentID, .merged(at: e.mergedAt))
        case .deviceIsolated(let e): (e.incidentID, .contained(at: e.isolatedAt))
        // Stopping the process and quarantining its file contains the attack too (the ransomware case).
        case .fileQuarantined(let e): (e.incidentID, .contained(at: e.quarantinedAt))
        case .notificationDelivered(let e):
            if e.route.recipient == .dynamic, e.about.type == NotificationAbout.incidentConfirmed, let incident = e.about.incidentID {
                (incident, .dynamicNotified(at: e.deliveredAt))
            } else {
                nil
            }
        default: nil
        }
    }
}
