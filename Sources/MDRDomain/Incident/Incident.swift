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

// MARK: Decider

/// The incident aggregate (stream `incident:<id>`): triage by the SOC.
public enum IncidentDecider: Decider {
    public typealias State = Incident?
    public typealias Event = DomainEvent

    public enum Command: Sendable {
        case confirm(priority: Priority, summary: String, by: Principal, at: Date)
        case dismiss(classification: DismissalClassification, reason: String, by: Principal, at: Date)
        case resolve(resolution: String, by: Principal, at: Date)
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
        }
    }

    static func refuseIfClosed(_ incident: Incident) throws(DomainError) {
        switch incident.status {
        case .dismissed: throw DomainError(.incidentDismissed, .conflict, "incident \(incident.id) was dismissed")
        case .resolved: throw DomainError(.incidentResolved, .conflict, "incident \(incident.id) is resolved")
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
        default:
            return state
        }
    }
}
