import Foundation
import MDRDomain

/// Joins signals into incident candidates: the SOC's "separate events that together form an attack".
///
/// The rules, in the order they apply to a newly ingested signal:
/// - Suppressed signals, and signals that name no entity, are counted, not escalated.
/// - A signal below its source's opening threshold (`Configuration.openingThreshold`: informational everywhere, and a
///   firewall's low logs — traffic and accept logs without a threat verdict) never opens an incident: it joins one
///   that shares an entity, as **context** (shown, but adding no entity, source, severity or stage: an accept log from
///   a NAT address must not pull unrelated hosts into the incident, nor raise its priority), or it is only counted.
/// - A signal joins the open (or confirmed) incident with which it shares an entity — device, user, IP address or
///   file hash — when it was observed within `window` of that entity's span in the incident (before its first or
///   after its latest signal: sources deliver late and out of order).
///   When several incidents qualify, the one sharing the most entities wins, then the earliest opened. Incidents
///   are not merged: an analyst who sees two candidates about one attack dismisses one as `duplicate`.
/// - An incident holds at most `maxSignalsPerIncident` signals; the next one opens a new incident linked to it.
/// - Dismissed and resolved incidents are never reopened: a signal about their entities opens a new incident
///   that links to the most recently closed one.
/// - The proposed priority starts from the highest severity (critical P1, high P2, medium P3, low P4) and rises one
///   step for a second source, two for a third, and one for a kill-chain progression: signals at three or more
///   distinct stages (a signal's stage is its latest tactic) reaching lateral movement or later. Raised while the
///   incident is a candidate only; an analyst's confirmation sets the real priority.
///
/// Pure: the same log gives the same incidents, provided incident ids are derived from the triggering event.
public struct Correlator: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// How far apart (observed time) two signals about one entity may be to join one incident. *Default* 30 min.
        public var window: TimeInterval
        /// The most signals one incident holds. *Default* 150.
        public var maxSignalsPerIncident: Int

        /// The lowest severity with which a signal of a source opens an incident (or adds to one); below it, a signal
        /// only joins as context. *Default* medium for the firewall (its low logs are traffic without a threat
        /// verdict), low for the other sources; informational never opens.
        public var openingThresholds: [SignalSource: Severity]

        public init(
            window: TimeInterval = 30 * 60, maxSignalsPerIncident: Int = 150, openingThresholds: [SignalSource: Severity] = [.firewall: .medium]
        ) {
            self.window = window
            self.maxSignalsPerIncident = maxSignalsPerIncident
            self.openingThresholds = openingThresholds
        }

        /// Whether `signal` may open an incident (and count in one), or only join one as context.
        public func opens(_ signal: Signal) -> Bool {
            signal.severity > .informational && signal.severity >= (openingThresholds[signal.source] ?? .low)
        }
    }

    /// An entity as the correlator indexes it.
    public enum EntityKey: Hashable, Sendable {
        case device(DeviceID)
        case user(String)
        case ip(String)
        case fileHash(String)

        /// The keys of a signal's entities. Accounts compare case-insensitively, as Entra ID and AD do. Addresses that
        /// every machine has (loopback, link-local, unspecified) name no machine in particular and are not keys.
        public static func keys(of entities: SignalEntities) -> [EntityKey] {
            entities.devices.map(EntityKey.device) + entities.users.map { .user($0.lowercased()) }
                + entities.ips.filter(isSpecific).map(EntityKey.ip) + entities.fileHashes.map(EntityKey.fileHash)
        }

        static func isSpecific(_ ip: String) -> Bool {
            let a = ip.lowercased()
            return !(a.hasPrefix("127.") || a.hasPrefix("169.254.") || a.hasPrefix("fe80:") || a == "::1" || a == "::" || a == "0.0.0.0")
        }
    }

    /// What the correlator remembers of an open or confirmed incident.
    public struct Candidate: Sendable, Equatable {
        public var id: IncidentID
        /// The order in which incidents were opened in the tenant's log (tie-breaker).
        public var sequence: Int
        public var confirmed: Bool
        public var signalCount: Int
        public var severity: Severity
        public var sources: Set<SignalSource>
        /// The kill-chain stages reached: the latest tactic of each signal.
        public var stages: Set<MitreTactic>
        public var priority: Priority
        /// The first and latest observed time of each entity the incident's signals name.
        public var seen: [EntityKey: ClosedRange<Date>]
    }

    /// What the correlator remembers of the log.
    public struct State: Sendable, Equatable {
        public var open: [IncidentID: Candidate] = [:]
        /// The open incidents naming each entity.
        var openByEntity: [EntityKey: Set<IncidentID>] = [:]
        /// The most recently closed incident naming each entity, with the order it was closed in.
        var closedByEntity: [EntityKey: Closed] = [:]
        var opened = 0
        var closed = 0

        struct Closed: Sendable, Equatable {
            var id: IncidentID
            var sequence: Int
        }

        public init() {}
    }

    public let configuration: Configuration

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    // MARK: Evolve

    /// Folds an event of the tenant's log into the correlator's state.
    public func evolve(_ state: State, _ event: DomainEvent) -> State {
        var s = state
        apply(event, to: &s)
        return s
    }

    /// Folds an event into the state in place: what a long-running fold uses, so that a tenant's state is never
    /// copied per event.
    public func apply(_ event: DomainEvent, to s: inout State) {
        switch event {
        case .incidentOpened(let e):
            s.opened += 1
            var candidate = Candidate(
                id: e.incidentID, sequence: s.opened, confirmed: false, signalCount: 0, severity: e.severity, sources: [],
                stages: [], priority: e.priority, seen: [:])
            Self.add(&candidate, source: e.source, severity: e.severity, tactics: e.tactics, entities: e.entities, at: e.observedAt)
            s.open[e.incidentID] = candidate
            for key in EntityKey.keys(of: e.entities) { s.openByEntity[key, default: []].insert(e.incidentID) }
        case .signalAttached(let e):
            guard s.open[e.incidentID] != nil else { return }
            if e.context == true {
                s.open[e.incidentID]!.signalCount += 1
                return
            }
            // In place: the candidate's entity spans are not copied per signal.
            Self.add(&s.open[e.incidentID]!, source: e.source, severity: e.severity, tactics: e.tactics, entities: e.entities, at: e.observedAt)
            for key in EntityKey.keys(of: e.entities) { s.openByEntity[key, default: []].insert(e.incidentID) }
        case .incidentPriorityRaised(let e):
            if let current = s.open[e.incidentID]?.priority { s.open[e.incidentID]?.priority = max(current, e.to) }
        case .incidentConfirmed(let e):
            s.open[e.incidentID]?.confirmed = true
        case .incidentDismissed(let e):
            Self.close(&s, e.incidentID)
        case .incidentResolved(let e):
            Self.close(&s, e.incidentID)
        default:
            break
        }
    }

    private static func add(
        _ c: inout Candidate, source: SignalSource, severity: Severity, tactics: [MitreTactic], entities: SignalEntities, at: Date
    ) {
        c.signalCount += 1
        c.severity = max(c.severity, severity)
        c.sources.insert(source)
        if let latest = tactics.max() { c.stages.insert(latest) }
        for key in EntityKey.keys(of: entities) {
            let span = c.seen[key] ?? at...at
            c.seen[key] = min(span.lowerBound, at)...max(span.upperBound, at)
        }
    }

    private static func close(_ s: inout State, _ id: IncidentID) {
        guard let candidate = s.open.removeValue(forKey: id) else { return }
        s.closed += 1
        for key in candidate.seen.keys {
            s.openByEntity[key]?.remove(id)
            if s.openByEntity[key]?.isEmpty == true { s.openByEntity[key] = nil }
            s.closedByEntity[key] = .init(id: id, sequence: s.closed)
        }
    }

    // MARK: Decide

    /// What a newly ingested signal does to incidents. `newIncidentID` names the incident to open, if one is opened.
    public func decide(_ ingested: SignalIngested, _ state: State, newIncidentID: IncidentID) -> [DomainEvent] {
        let signal = ingested.signal
        guard ingested.suppressedBy == nil, !signal.entities.isEmpty else { return [] }
        let context = !configuration.opens(signal)
        let keys = EntityKey.keys(of: signal.entities)
        let tactics = MitreCatalog.tactics(of: signal)

        // Incidents sharing an entity within the window, with how many entities they share.
        var shared: [IncidentID: Int] = [:]
        for key in keys {
            for id in state.openByEntity[key] ?? [] {
                guard let span = state.open[id]?.seen[key],
                    signal.observedAt >= span.lowerBound.addingTimeInterval(-configuration.window),
                    signal.observedAt <= span.upperBound.addingTimeInterval(configuration.window)
                else { continue }
                shared[id, default: 0] += 1
            }
        }
        let ranked = shared.compactMap { id, count in state.open[id].map { (candidate: $0, count: count) } }
            .sorted { ($0.count, -$0.candidate.sequence) > ($1.count, -$1.candidate.sequence) }

        if let target = ranked.first(where: { $0.candidate.signalCount < configuration.maxSignalsPerIncident })?.candidate {
            let attached = SignalAttached(
                incidentID: target.id, signalID: ingested.signalID, severity: signal.severity, source: signal.source,
                observedAt: signal.observedAt, entities: signal.entities, tactics: tactics, context: context)
            var events: [DomainEvent] = [.signalAttached(attached)]
            guard !target.confirmed, !context else { return events }
            var joined = target
            Self.add(&joined, source: signal.source, severity: signal.severity, tactics: tactics, entities: signal.entities, at: signal.observedAt)
            let (proposed, reasons) = Self.proposedPriority(joined)
            if proposed > target.priority {
                events.append(
                    .incidentPriorityRaised(
                        IncidentPriorityRaised(incidentID: target.id, from: target.priority, to: proposed, reasons: reasons, raisedAt: ingested.receivedAt)))
            }
            return events
        }

        // A new candidate: it continues the latest full incident, or follows on from a closed one about the same entities.
        // Context opens nothing.
        guard !context else { return [] }
        let full = ranked.max { $0.candidate.sequence < $1.candidate.sequence }?.candidate.id
        let closed = keys.compactMap { state.closedByEntity[$0] }.max { $0.sequence < $1.sequence }?.id
        var single = Candidate(
            id: newIncidentID, sequence: 0, confirmed: false, signalCount: 0, severity: signal.severity, sources: [], stages: [],
            priority: .p4, seen: [:])
        Self.add(&single, source: signal.source, severity: signal.severity, tactics: tactics, entities: signal.entities, at: signal.observedAt)
        return [
            .incidentOpened(
                IncidentOpened(
                    incidentID: newIncidentID, signalID: ingested.signalID, severity: signal.severity, openedAt: ingested.receivedAt,
                    priority: Self.proposedPriority(single).priority, source: signal.source, observedAt: signal.observedAt,
                    entities: signal.entities, tactics: tactics, linkedTo: full ?? closed))
        ]
    }

    // MARK: Priority

    /// The priority the correlator proposes for a candidate, and why it is above the severity's own.
    public static func proposedPriority(_ c: Candidate) -> (priority: Priority, reasons: [String]) {
        let base: Priority =
            switch c.severity {
            case .critical: .p1
            case .high: .p2
            case .medium, .unknown: .p3
            case .low, .informational: .p4
            }
        var steps = 0
        var reasons: [String] = []
        if c.sources.count >= 2 {
            steps += min(c.sources.count - 1, 2)
            reasons.append("signals from \(c.sources.count) sources (\(c.sources.map(\.rawValue).sorted().joined(separator: ", ")))")
        }
        if c.stages.count >= 3, let first = c.stages.min(), let last = c.stages.max(), last >= .lateralMovement {
            steps += 1
            reasons.append("kill chain: \(first.rawValue) → \(last.rawValue) across \(c.stages.count) stages")
        }
        let all = Priority.allCases.sorted()  // P4 … P1
        let raised = all[min(all.firstIndex(of: base)! + steps, all.count - 1)]
        return (raised, raised > base ? reasons : [])
    }
}
