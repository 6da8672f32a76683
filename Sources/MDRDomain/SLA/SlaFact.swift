import Foundation

/// What SLA timers react to, independent of how incident events are shaped: a small vocabulary that
/// `SlaFact.from(_:)` maps the domain events onto, so a reworked event changes one mapping, not the timer rules.
public enum SlaFact: Hashable, Sendable {
    /// A candidate incident was opened with the correlator's proposed priority: triage starts.
    case opened(at: Date, priority: Priority)
    /// The candidate's priority changed: running deadlines are recomputed.
    case priorityChanged(to: Priority, at: Date)
    /// An analyst confirmed the incident: triage stops; notify and contain start for P1/P2.
    case confirmed(priority: Priority, at: Date)
    /// An analyst dismissed the incident: triage stops.
    case dismissed(at: Date)
    /// The incident was merged into another: its running timers stop (the other incident's run on).
    case merged(at: Date)
    /// The incident was resolved: a running contain timer stops (the threat was handled without isolation).
    case resolved(at: Date)
    /// A device was isolated for the incident: contain stops.
    case contained(at: Date)
    /// Dynamic received the incident: notify stops.
    case dynamicNotified(at: Date)
}
