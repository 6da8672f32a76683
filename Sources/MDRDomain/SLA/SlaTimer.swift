import Foundation

/// What stopped a timer.
public enum SlaStop: String, Sendable, Codable {
    case confirmed, dismissed, contained, resolved, notified
    /// The incident was merged into another, whose timers run on: a timer stopped so is not counted as met
    /// (compliance leaves it out), but a breach before the merge stands.
    case merged
}

/// Where a timer stands at an instant.
public enum SlaTimerStatus: String, Sendable, Codable {
    /// Not stopped, deadline not yet passed.
    case running
    /// Stopped at or before its deadline.
    case met
    /// Stopped after its deadline, or its deadline passed without a stop.
    case breached
}

/// One SLA target of one incident: started, deadline, stopped, and whether it was met.
public struct SlaTimer: Hashable, Sendable, Codable {
    public var incidentID: IncidentID
    public var target: SlaTargetKind
    /// The priority the deadline was computed for.
    public var priority: Priority
    public var sla: ServiceLevel
    public var policyVersion: String
    public var rule: SlaDeadlineRule
    public var startedAt: Date
    public var deadline: Date
    public var stoppedAt: Date?
    public var stoppedBy: SlaStop?
    /// Time from start to stop on the rule's clock (business seconds for business-clock targets); set when stopped.
    public var elapsed: TimeInterval?

    public init(
        incidentID: IncidentID, target: SlaTargetKind, priority: Priority, sla: ServiceLevel, policyVersion: String,
        rule: SlaDeadlineRule, startedAt: Date, deadline: Date, stoppedAt: Date? = nil, stoppedBy: SlaStop? = nil,
        elapsed: TimeInterval? = nil
    ) {
        self.incidentID = incidentID
        self.target = target
        self.priority = priority
        self.sla = sla
        self.policyVersion = policyVersion
        self.rule = rule
        self.startedAt = startedAt
        self.deadline = deadline
        self.stoppedAt = stoppedAt
        self.stoppedBy = stoppedBy
        self.elapsed = elapsed
    }

    /// Running, met or breached at `now`. A stop exactly at the deadline meets it; an unstopped timer is breached
    /// once `now` is past the deadline.
    public func status(at now: Date) -> SlaTimerStatus {
        if let stoppedAt { return stoppedAt <= deadline ? .met : .breached }
        return now > deadline ? .breached : .running
    }

    /// Real seconds until the deadline (negative once overdue), or nil when stopped: the SOC's "about to breach" order.
    public func remaining(at now: Date) -> TimeInterval? {
        stoppedAt == nil ? deadline.timeIntervalSince(now) : nil
    }

    /// The breach event this timer calls for at `now`, or nil when it is running or met. Its deadline identifies it:
    /// the SLA clock derives the event id from (incident, target, deadline), so it is appended once.
    public func breach(at now: Date) -> SlaBreached? {
        guard status(at: now) == .breached else { return nil }
        return SlaBreached(
            incidentID: incidentID, target: target, priority: priority, sla: sla, deadline: deadline, breachedAt: now,
            policyVersion: policyVersion)
    }
}

/// A target was not met: its deadline passed without its stopping event (or the stop came late).
/// Stream: the incident's.
public struct SlaBreached: DomainEventPayload {
    public static let eventType = "SlaBreached"
    public var incidentID: IncidentID
    public var target: SlaTargetKind
    public var priority: Priority
    public var sla: ServiceLevel
    public var deadline: Date
    /// When the SLA clock recorded the breach (at most a second after the deadline while it runs).
    public var breachedAt: Date
    /// The `SlaPolicy` version the deadline was computed with.
    public var policyVersion: String

    public init(
        incidentID: IncidentID, target: SlaTargetKind, priority: Priority, sla: ServiceLevel, deadline: Date, breachedAt: Date,
        policyVersion: String
    ) {
        self.incidentID = incidentID
        self.target = target
        self.priority = priority
        self.sla = sla
        self.deadline = deadline
        self.breachedAt = breachedAt
        self.policyVersion = policyVersion
    }
}
