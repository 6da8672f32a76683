import Foundation

/// The SLA timers of one incident, folded from its `SlaFact`s.
///
/// Rules (see `docs/sla.md`):
/// - Triage starts at opening with the candidate priority's target. A priority change or the confirmation
///   recomputes a running timer's deadline from its start with the new priority — unless the old deadline had
///   already passed when the change came: a breach stands and is never undone.
/// - Confirmation stops triage and, for P1/P2, starts notify and contain.
/// - A merge into another incident stops every running timer as merged (compliance does not count it as met).
/// - Dismissal stops triage; isolation stops contain; resolution stops a running contain timer; delivery to Dynamic
///   stops notify. Repeated facts change nothing (the first stop counts).
public struct IncidentSlaTimers: Hashable, Sendable {
    public let incidentID: IncidentID
    /// At most one timer per target.
    public private(set) var timers: [SlaTargetKind: SlaTimer]
    /// The latest priority: the candidate's until confirmed, then the analyst's.
    public private(set) var priority: Priority?
    public private(set) var isConfirmed: Bool

    public init(incidentID: IncidentID) {
        self.incidentID = incidentID
        self.timers = [:]
        self.priority = nil
        self.isConfirmed = false
    }

    /// Restores a state stored earlier (a read model's rows), to go on folding from it.
    public init(incidentID: IncidentID, timers: [SlaTimer], priority: Priority?, isConfirmed: Bool) {
        self.incidentID = incidentID
        self.timers = Dictionary(timers.map { ($0.target, $0) }, uniquingKeysWith: { _, last in last })
        self.priority = priority
        self.isConfirmed = isConfirmed
    }

    /// The timers ordered by target (triage, notify, contain).
    public var sorted: [SlaTimer] { timers.values.sorted { $0.target < $1.target } }

    /// Folds `facts` (in log order) into the timers of `incidentID`.
    public static func fold<S: Sequence>(_ incidentID: IncidentID, _ facts: S, terms: SlaTerms) -> IncidentSlaTimers
    where S.Element == SlaFact {
        var state = IncidentSlaTimers(incidentID: incidentID)
        for fact in facts { state.apply(fact, terms: terms) }
        return state
    }

    /// Applies one fact.
    public mutating func apply(_ fact: SlaFact, terms: SlaTerms) {
        switch fact {
        case .opened(let at, let priority):
            guard timers[.triage] == nil else { return }
            self.priority = priority
            start(.triage, priority: priority, at: at, terms: terms)
        case .priorityChanged(let to, let at):
            priority = to
            for target in timers.keys { recompute(target, priority: to, at: at, terms: terms) }
        case .confirmed(let priority, let at):
            guard !isConfirmed else { return }
            isConfirmed = true
            self.priority = priority
            recompute(.triage, priority: priority, at: at, terms: terms)
            stop(.triage, at: at, by: .confirmed, terms: terms)
            if priority.isHigh {
                start(.notify, priority: priority, at: at, terms: terms)
                start(.contain, priority: priority, at: at, terms: terms)
            }
        case .dismissed(let at):
            stop(.triage, at: at, by: .dismissed, terms: terms)
        case .merged(let at):
            for target in timers.keys { stop(target, at: at, by: .merged, terms: terms) }
        case .resolved(let at):
            stop(.contain, at: at, by: .resolved, terms: terms)
        case .contained(let at):
            stop(.contain, at: at, by: .contained, terms: terms)
        case .dynamicNotified(let at):
            stop(.notify, at: at, by: .notified, terms: terms)
        }
    }

    private mutating func start(_ target: SlaTargetKind, priority: Priority, at: Date, terms: SlaTerms) {
        guard timers[target] == nil, let rule = terms.policy.rule(sla: terms.sla, priority: priority, target: target) else { return }
        timers[target] = SlaTimer(
            incidentID: incidentID, target: target, priority: priority, sla: terms.sla, policyVersion: terms.policy.version,
            rule: rule, startedAt: at, deadline: rule.deadline(from: at, on: terms.clock))
    }

    private mutating func recompute(_ target: SlaTargetKind, priority: Priority, at: Date, terms: SlaTerms) {
        guard var timer = timers[target], timer.stoppedAt == nil, timer.priority != priority,
            timer.deadline >= at,  // already breached under the old terms: the breach stands
            let rule = terms.policy.rule(sla: timer.sla, priority: priority, target: target)
        else { return }
        timer.priority = priority
        timer.rule = rule
        timer.policyVersion = terms.policy.version
        timer.deadline = rule.deadline(from: timer.startedAt, on: terms.clock)
        timers[target] = timer
    }

    private mutating func stop(_ target: SlaTargetKind, at: Date, by: SlaStop, terms: SlaTerms) {
        guard var timer = timers[target], timer.stoppedAt == nil else { return }
        timer.stoppedAt = at
        timer.stoppedBy = by
        timer.elapsed = timer.rule.elapsed(from: timer.startedAt, to: at, on: terms.clock)
        timers[target] = timer
    }
}
