import Foundation

/// The priority a SOC analyst gives a confirmed incident: P1 critical … P4 low. Drives SLA targets and routing.
public enum Priority: String, Sendable, Codable, CaseIterable, Comparable {
    case p1 = "P1", p2 = "P2", p3 = "P3", p4 = "P4"

    /// Only confirmed P1 and P2 incidents lead to response or a customer notification.
    public var isHigh: Bool { self == .p1 || self == .p2 }
    /// Ordered by urgency: `P4 < P1`, so `max()` gives the most urgent.
    public static func < (a: Priority, b: Priority) -> Bool { a.rawValue > b.rawValue }
}

/// Where an incident stands.
public enum IncidentStatus: String, Sendable, Codable {
    /// A candidate: signals correlated, not yet assessed by an analyst.
    case open
    /// Confirmed by an analyst as a real attack, with a priority.
    case confirmed
    /// Assessed as not an attack.
    case dismissed
    /// A confirmed incident that has been handled.
    case resolved
    /// Merged into another incident about the same attack (`mergedInto`), which holds its signals from then on.
    case merged

    /// Dismissed, resolved or merged: no signal joins it and no command changes it any more.
    public var isClosed: Bool { self == .dismissed || self == .resolved || self == .merged }
}

/// How a dismissed incident was classified.
public enum DismissalClassification: String, Sendable, Codable, CaseIterable {
    case falsePositive = "false_positive"
    case benignPositive = "benign_positive"
    case duplicate
}

/// An incident as its events make it.
public struct Incident: Hashable, Sendable, Codable {
    public var id: IncidentID
    public var status: IncidentStatus
    public var openedAt: Date
    public var devices: [DeviceID]
    public var signals: [SignalID]
    public var highestSeverity: Severity
    /// The correlator's proposed priority while the incident is a candidate.
    public var candidatePriority: Priority
    public var sources: [SignalSource]
    /// Every entity the incident's signals name.
    public var entities: SignalEntities
    /// The closed (or full) incident this one follows on from.
    public var linkedTo: IncidentID?
    /// The analyst's priority, set at confirmation.
    public var priority: Priority?
    public var summary: String?
    public var confirmedAt: Date?
    public var confirmedBy: String?
    public var closedAt: Date?
    public var closedBy: String?
    public var closingNote: String?
    public var dismissal: DismissalClassification?
    /// The incident this one was merged into.
    public var mergedInto: IncidentID?
    /// The analyst who owns it (a principal id), or nil while nobody does.
    public var assignee: String? = nil
    /// The SOC's working notes, oldest first (nil until the first).
    public var notes: [IncidentNote]? = nil

    public func involves(_ device: DeviceID) -> Bool { devices.contains(device) }
}

// MARK: Events

/// A new incident candidate, opened by the correlator for a signal that no open incident covers.
public struct IncidentOpened: DomainEventPayload {
    public static let eventType = "IncidentOpened"
    public var incidentID: IncidentID
    /// The devices the opening signal names (also in `entities`): isolation needs an incident that involves the device.
    public var devices: [DeviceID]
    public var signalID: SignalID
    public var severity: Severity
    /// When the service received the opening signal: the triage SLA timer starts here.
    public var openedAt: Date
    /// The priority the correlator proposes; an analyst sets the real one when confirming.
    public var priority: Priority
    public var source: SignalSource
    /// When the source observed the opening signal: correlation windows are measured in observed time.
    public var observedAt: Date
    public var entities: SignalEntities
    /// The ATT&CK tactics of the opening signal's techniques, as the correlator read them.
    public var tactics: [MitreTactic]
    /// A closed incident about the same entities: it is not reopened, the new candidate links to it. Also set when
    /// the incident it continues was full.
    public var linkedTo: IncidentID?

    public init(
        incidentID: IncidentID, signalID: SignalID, severity: Severity, openedAt: Date, priority: Priority, source: SignalSource,
        observedAt: Date, entities: SignalEntities, tactics: [MitreTactic] = [], linkedTo: IncidentID? = nil
    ) {
        self.incidentID = incidentID
        self.devices = entities.devices
        self.signalID = signalID
        self.severity = severity
        self.openedAt = openedAt
        self.priority = priority
        self.source = source
        self.observedAt = observedAt
        self.entities = entities
        self.tactics = tactics
        self.linkedTo = linkedTo
    }
}

/// A further signal joins an open or confirmed incident.
public struct SignalAttached: DomainEventPayload {
    public static let eventType = "SignalAttached"
    public var incidentID: IncidentID
    public var signalID: SignalID
    /// The devices the signal names (also in `entities`).
    public var devices: [DeviceID]
    public var severity: Severity
    public var source: SignalSource
    public var observedAt: Date
    public var entities: SignalEntities
    public var tactics: [MitreTactic]
    /// Attached as context only (a signal below its source's opening threshold, such as a firewall's accept log): it
    /// shows in the incident but adds no entity, source, severity or stage to what the correlator decides on. Absent
    /// (false) in events recorded before context existed.
    public var context: Bool?

    public init(
        incidentID: IncidentID, signalID: SignalID, severity: Severity, source: SignalSource, observedAt: Date,
        entities: SignalEntities, tactics: [MitreTactic] = [], context: Bool = false
    ) {
        self.context = context ? true : nil
        self.incidentID = incidentID
        self.signalID = signalID
        self.devices = entities.devices
        self.severity = severity
        self.source = source
        self.observedAt = observedAt
        self.entities = entities
        self.tactics = tactics
    }
}

/// The correlator raised an open candidate's proposed priority: more sources, or an attack moving along the kill chain.
public struct IncidentPriorityRaised: DomainEventPayload {
    public static let eventType = "IncidentPriorityRaised"
    public var incidentID: IncidentID
    public var from: Priority
    public var to: Priority
    /// Why, in words an analyst reads: "signals from 3 sources", "kill chain: initial-access → impact".
    public var reasons: [String]
    public var raisedAt: Date

    public init(incidentID: IncidentID, from: Priority, to: Priority, reasons: [String], raisedAt: Date) {
        self.incidentID = incidentID
        self.from = from
        self.to = to
        self.reasons = reasons
        self.raisedAt = raisedAt
    }
}

public struct IncidentConfirmed: DomainEventPayload {
    public static let eventType = "IncidentConfirmed"
    public var incidentID: IncidentID
    public var priority: Priority
    public var summary: String
    public var confirmedBy: String
    public var confirmedAt: Date
}

public struct IncidentDismissed: DomainEventPayload {
    public static let eventType = "IncidentDismissed"
    public var incidentID: IncidentID
    public var classification: DismissalClassification
    public var reason: String
    public var dismissedBy: String
    public var dismissedAt: Date
}

public struct IncidentResolved: DomainEventPayload {
    public static let eventType = "IncidentResolved"
    public var incidentID: IncidentID
    public var resolution: String
    public var resolvedBy: String
    public var resolvedAt: Date
}

/// Another incident about the same attack was merged into this one (stream of the incident that remains): the merged
/// incident's signals, devices, entities and sources are this incident's from now on.
public struct IncidentAbsorbed: DomainEventPayload {
    public static let eventType = "IncidentAbsorbed"
    public var incidentID: IncidentID
    /// The incident merged into this one.
    public var absorbed: IncidentID
    public var signals: [SignalID]
    public var devices: [DeviceID]
    public var entities: SignalEntities
    public var sources: [SignalSource]
    /// The highest severity of the merged incident's signals.
    public var severity: Severity
    /// The candidate priority from now on, when the merge raises it (the higher of the two candidates'); nil for a
    /// confirmed incident, whose priority is the analyst's, or when it does not change.
    public var candidatePriority: Priority?
    public var reason: String
    public var mergedBy: String
    public var mergedAt: Date

    public init(
        incidentID: IncidentID, absorbed: IncidentID, signals: [SignalID], entities: SignalEntities, sources: [SignalSource], severity: Severity,
        candidatePriority: Priority?, reason: String, mergedBy: String, mergedAt: Date
    ) {
        self.incidentID = incidentID
        self.absorbed = absorbed
        self.signals = signals
        self.devices = entities.devices
        self.entities = entities
        self.sources = sources
        self.severity = severity
        self.candidatePriority = candidatePriority
        self.reason = reason
        self.mergedBy = mergedBy
        self.mergedAt = mergedAt
    }
}

/// This incident was merged into another about the same attack (its own stream): it is closed, its signals continue in
/// `into`, and its SLA timers stop as merged (the other incident's timers run on).
public struct IncidentMerged: DomainEventPayload {
    public static let eventType = "IncidentMerged"
    public var incidentID: IncidentID
    public var into: IncidentID
    public var reason: String
    public var mergedBy: String
    public var mergedAt: Date

    public init(incidentID: IncidentID, into: IncidentID, reason: String, mergedBy: String, mergedAt: Date) {
        self.incidentID = incidentID
        self.into = into
        self.reason = reason
        self.mergedBy = mergedBy
        self.mergedAt = mergedAt
    }
}

/// An analyst took (or was given) ownership of the incident, or it was left unassigned (`assignee` nil).
public struct IncidentAssigned: DomainEventPayload {
    public static let eventType = "IncidentAssigned"
    public var incidentID: IncidentID
    public var assignee: String?
    public var assignedBy: String
    public var assignedAt: Date

    public init(incidentID: IncidentID, assignee: String?, assignedBy: String, assignedAt: Date) {
        self.incidentID = incidentID
        self.assignee = assignee
        self.assignedBy = assignedBy
        self.assignedAt = assignedAt
    }
}

/// A working note as the incident holds it.
public struct IncidentNote: Hashable, Sendable, Codable {
    public var text: String
    public var author: String
    public var addedAt: Date
}

/// The SOC's working note on an incident: what was looked at, what was found. Scrubbed of secrets before it is decided.
public struct IncidentNoteAdded: DomainEventPayload {
    public static let eventType = "IncidentNoteAdded"
    public var incidentID: IncidentID
    public var text: String
    public var author: String
    public var addedAt: Date

    public init(incidentID: IncidentID, text: String, author: String, addedAt: Date) {
        self.incidentID = incidentID
        self.text = text
        self.author = author
        self.addedAt = addedAt
    }
}

/// Merging one incident into another: the one rule for the SOC's merge command and the correlator's automatic merge
/// of candidates.
public enum IncidentMerge {
    /// The events of merging `absorbed` into `survivor`: first the survivor takes the signals (its stream), then the
    /// absorbed incident closes as merged (its stream). In this order a fold of the log never sees signals without
    /// an incident.
    ///
    /// Refused: either incident missing (or of another tenant), the same incident twice, a closed one (dismissed,
    /// resolved or merged), or a confirmed incident into a candidate (merge the candidate into it instead: a merge
    /// never takes an analyst's confirmation back).
    public static func decide(
        _ absorbed: Incident?, into survivor: Incident?, reason: String, by: Principal, at: Date
    ) throws(DomainError) -> [DomainEvent] {
        guard let absorbed, let survivor else { throw DomainError(.incidentNotFound, .notFound, "incident not found") }
        guard absorbed.id != survivor.id else {
            throw DomainError(.mergeIntoItself, .invalid, "an incident cannot be merged into itself: name the other incident in `into`")
        }
        try IncidentDecider.refuseIfClosed(absorbed)
        try IncidentDecider.refuseIfClosed(survivor)
        if absorbed.status == .confirmed, survivor.status == .open {
            throw DomainError(
                .mergeIntoCandidate, .conflict,
                "incident \(absorbed.id) is confirmed and \(survivor.id) is a candidate: merge \(survivor.id) into \(absorbed.id) instead")
        }
        let text = try IncidentDecider.requiredText(reason, .reasonMissing, "a reason is required to merge incidents")
        let raised = survivor.status == .open && absorbed.candidatePriority > survivor.candidatePriority ? absorbed.candidatePriority : nil
        return events(
            absorbed: absorbed.id, into: survivor.id, signals: absorbed.signals, entities: absorbed.entities, sources: absorbed.sources,
            severity: absorbed.highestSeverity, candidatePriority: raised, reason: text, by: by.id, at: at)
    }

    /// The two events of a merge decided elsewhere (the correlator decides on its own state).
    public static func events(
        absorbed: IncidentID, into survivor: IncidentID, signals: [SignalID], entities: SignalEntities, sources: [SignalSource],
        severity: Severity, candidatePriority: Priority?, reason: String, by: String, at: Date
    ) -> [DomainEvent] {
        [
            .incidentAbsorbed(
                IncidentAbsorbed(
                    incidentID: survivor, absorbed: absorbed, signals: signals, entities: entities, sources: sources, severity: severity,
                    candidatePriority: candidatePriority, reason: reason, mergedBy: by, mergedAt: at)),
            .incidentMerged(IncidentMerged(incidentID: absorbed, into: survivor, reason: reason, mergedBy: by, mergedAt: at)),
        ]
    }
}

// MARK: Decider

/// The incident aggregate (stream `incident:<id>`): triage by the SOC.
public enum IncidentDecider: Decider {
    public typealias State = Incident?
    public typealias Event = DomainEvent

    public enum Command: Sendable {
        case confirm(priority: Priority, summary: String, by: Principal, at: Date)
        case dismiss(classification: DismissalClassification, reason: String, by: Principal, at: Date)
        case resolve(resolution: String, by: Principal, at: Date)
        /// Gives the incident to an analyst (a principal id), or leaves it unassigned (nil). Open and confirmed only.
        case assign(to: String?, by: Principal, at: Date)
        /// A working note (up to `maxTextLength` characters). On any incident, closed ones included (a post-mortem).
        case addNote(text: String, by: Principal, at: Date)
    }

    public static let initialState: Incident? = nil
    static let maxTextLength = 4000

    public static func decide(_ command: Command, _ state: Incident?) throws(DomainError) -> [DomainEvent] {
        guard let incident = state else {
            throw DomainError(.incidentNotFound, .notFound, "incident not found")
        }
        switch command {
        case .confirm(let priority, let summary, let by, let at):
            try refuseIfClosed(incident)
            guard incident.status == .open else {
                throw DomainError(.incidentAlreadyConfirmed, .conflict, "incident \(incident.id) is already confirmed as \(incident.priority?.rawValue ?? "?")")
            }
            let text = try requiredText(summary, .summaryMissing, "a short technical summary is required to confirm an incident")
            return [.incidentConfirmed(IncidentConfirmed(incidentID: incident.id, priority: priority, summary: text, confirmedBy: by.id, confirmedAt: at))]
        case .dismiss(let classification, let reason, let by, let at):
            try refuseIfClosed(incident)
            guard incident.status == .open else {
                throw DomainError(.incidentAlreadyConfirmed, .conflict, "incident \(incident.id) is confirmed: resolve it instead of dismissing it")
            }
            let text = try requiredText(reason, .reasonMissing, "a reason is required to dismiss an incident")
            return [.incidentDismissed(IncidentDismissed(incidentID: incident.id, classification: classification, reason: text, dismissedBy: by.id, dismissedAt: at))]
        case .resolve(let resolution, let by, let at):
            try refuseIfClosed(incident)
            guard incident.status == .confirmed else {
                throw DomainError(.incidentNotConfirmed, .conflict, "incident \(incident.id) is not confirmed: confirm or dismiss it first")
            }
            let text = try requiredText(resolution, .reasonMissing, "a resolution (what was done) is required to resolve an incident")
            return [.incidentResolved(IncidentResolved(incidentID: incident.id, resolution: text, resolvedBy: by.id, resolvedAt: at))]
        case .assign(let to, let by, let at):
            try refuseIfClosed(incident)
            let assignee = to?.trimmingSpaces
            if let assignee {
                guard !assignee.isEmpty, assignee.count <= 200, !assignee.contains(where: \.isNewline) else {
                    throw DomainError(.invalidField, .invalid, "assignee: the analyst's principal id (1–200 characters), or null to unassign")
                }
            }
            // Already so: nothing to record.
            guard assignee != incident.assignee else { return [] }
            return [.incidentAssigned(IncidentAssigned(incidentID: incident.id, assignee: assignee, assignedBy: by.id, assignedAt: at))]
        case .addNote(let text, let by, let at):
            let note = try requiredText(text, .invalidField, "text: the note is empty")
            return [.incidentNoteAdded(IncidentNoteAdded(incidentID: incident.id, text: note, author: by.id, addedAt: at))]
        }
    }

    static func refuseIfClosed(_ incident: Incident) throws(DomainError) {
        switch incident.status {
        case .dismissed: throw DomainError(.incidentDismissed, .conflict, "incident \(incident.id) was dismissed")
        case .resolved: throw DomainError(.incidentResolved, .conflict, "incident \(incident.id) is resolved")
        case .merged:
            throw DomainError(
                .incidentMerged, .conflict, "incident \(incident.id) was merged into \(incident.mergedInto?.description ?? "another incident")")
        case .open, .confirmed: return
        }
    }

    static func requiredText(_ raw: String, _ code: DomainError.Code, _ message: String) throws(DomainError) -> String {
        let text = raw.trimmingSpaces
        guard !text.isEmpty else { throw DomainError(code, .invalid, message) }
        guard text.count <= maxTextLength else { throw DomainError(.invalidField, .invalid, "text longer than \(maxTextLength) characters") }
        return text
    }

    public static func evolve(_ state: Incident?, _ event: DomainEvent) -> Incident? {
        switch event {
        case .incidentOpened(let e):
            return Incident(
                id: e.incidentID, status: .open, openedAt: e.openedAt, devices: e.devices, signals: [e.signalID],
                highestSeverity: e.severity, candidatePriority: e.priority, sources: [e.source], entities: e.entities,
                linkedTo: e.linkedTo)
        case .signalAttached(let e):
            guard var s = state else { return state }
            if !s.signals.contains(e.signalID) { s.signals.append(e.signalID) }
            for d in e.devices where !s.devices.contains(d) { s.devices.append(d) }
            if !s.sources.contains(e.source) { s.sources.append(e.source) }
            s.entities.merge(e.entities)
            s.highestSeverity = max(s.highestSeverity, e.severity)
            return s
        case .incidentPriorityRaised(let e):
            guard var s = state else { return state }
            s.candidatePriority = max(s.candidatePriority, e.to)
            return s
        case .incidentConfirmed(let e):
            guard var s = state else { return state }
            s.status = .confirmed
            s.priority = e.priority
            s.summary = e.summary
            s.confirmedAt = e.confirmedAt
            s.confirmedBy = e.confirmedBy
            return s
        case .incidentDismissed(let e):
            guard var s = state else { return state }
            s.status = .dismissed
            s.dismissal = e.classification
            s.closingNote = e.reason
            s.closedAt = e.dismissedAt
            s.closedBy = e.dismissedBy
            return s
        case .incidentResolved(let e):
            guard var s = state else { return state }
            s.status = .resolved
            s.closingNote = e.resolution
            s.closedAt = e.resolvedAt
            s.closedBy = e.resolvedBy
            return s
        case .incidentAbsorbed(let e):
            guard var s = state else { return state }
            for signal in e.signals where !s.signals.contains(signal) { s.signals.append(signal) }
            for d in e.devices where !s.devices.contains(d) { s.devices.append(d) }
            for source in e.sources where !s.sources.contains(source) { s.sources.append(source) }
            s.entities.merge(e.entities)
            s.highestSeverity = max(s.highestSeverity, e.severity)
            if let raised = e.candidatePriority { s.candidatePriority = max(s.candidatePriority, raised) }
            return s
        case .incidentAssigned(let e):
            guard var s = state else { return state }
            s.assignee = e.assignee
            return s
        case .incidentNoteAdded(let e):
            guard var s = state else { return state }
            s.notes = (s.notes ?? []) + [IncidentNote(text: e.text, author: e.author, addedAt: e.addedAt)]
            return s
        case .incidentMerged(let e):
            guard var s = state else { return state }
            s.status = .merged
            s.mergedInto = e.into
            s.closingNote = e.reason
            s.closedAt = e.mergedAt
            s.closedBy = e.mergedBy
            return s
        default:
            return state
        }
    }
}
