import Foundation
import MDRDomain

/// Joins signals into incident candidates: the SOC's "separate events that together form an attack".
///
/// The rules, in the order they apply to a newly ingested signal:
/// - Suppressed signals, and signals that name no entity, are counted, not escalated.
/// - A signal below its source's opening threshold (`Configuration.openingThresholds`, unless the SOC tuned the tenant's
///   own with `OpeningThresholdsSet`: informational everywhere, and a firewall's low logs — traffic and accept logs
///   without a threat verdict) never opens an incident: it joins one
///   that shares an entity, as **context** (shown, but adding no entity, source, severity or stage: an accept log from
///   a NAT address must not pull unrelated hosts into the incident, nor raise its priority), or it is only counted.
/// - A signal is **linked** to an open (or confirmed) incident when it shares an entity — device, user, IP address or
///   file hash — with one of the incident's signals observed within `window` of it (before or after: sources deliver
///   late and out of order).
/// - When it is linked to several unconfirmed candidates, they are one attack: they are **merged** into the oldest
///   (the others close as merged into it, their signals move), provided the result stays within
///   `maxSignalsPerIncident`. Confirmed incidents are never merged automatically (the SOC merges by command).
/// - It then joins the linked incident sharing the most entities with it, then the earliest opened.
/// - An incident holds at most `maxSignalsPerIncident` signals; the next one opens a new incident linked to it.
/// - Dismissed and resolved incidents are never reopened: a signal about their entities opens a new incident
///   that links to the most recently closed one.
/// - The proposed priority starts from the highest severity (critical P1, high P2, medium P3, low P4) and rises one
///   step for a second source, two for a third, and one for a kill-chain progression: signals at three or more
///   distinct stages (a signal's stage is its latest tactic) reaching lateral movement or later. Raised while the
///   incident is a candidate only; an analyst's confirmation sets the real priority.
///
/// So the incidents that a set of opening signals forms do not depend on the order they arrive in: they are the
/// connected groups of "names an entity of, within the window" (within the cap, and while nobody confirms or closes
/// one). Context signals are the exception: one that arrives before any incident about its entity is only counted.
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

        /// Whether `signal` may open an incident (and count in one), or only join one as context. A tenant's own
        /// thresholds (`tenant`, the SOC's tuning) replace the defaults for the sources they name.
        public func opens(_ signal: Signal, tenant: [SignalSource: Severity] = [:]) -> Bool {
            signal.severity > .informational && signal.severity >= (tenant[signal.source] ?? openingThresholds[signal.source] ?? .low)
        }
    }

    /// The rules a signal is decided by. A rule that changes how the log is read applies from a position on (see
    /// `CorrelationProcessor`), so that a log decided under the old rule reads as it was decided.
    public enum Rules: Sendable, Equatable {
        /// Before candidates were merged (signals decided before migration 0015): a signal is linked to an incident when
        /// observed within `window` of the span of the incident's signals about a shared entity; never merged.
        case spans
        /// Linked when observed within `window` of one of the incident's signals about a shared entity; a signal linked
        /// to several unconfirmed candidates merges them.
        case merging
    }

    /// Who the correlator's decisions are made by (merges name it).
    public static let actor = Principal.system("correlator")

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
        /// The order in which incidents were opened in the tenant's log (tie-breaker; the oldest survives a merge).
        public var sequence: Int
        public var confirmed: Bool
        /// Its signals, context included, in the order they joined.
        public var signals: [SignalID]
        public var severity: Severity
        public var sources: Set<SignalSource>
        /// The kill-chain stages reached: the latest tactic of each signal.
        public var stages: Set<MitreTactic>
        public var priority: Priority
        /// When the incident's signals that name each entity were observed, in order.
        public var seen: [EntityKey: [Date]]
        /// Every entity its signals (context aside) name: what a merge hands on.
        public var entities: SignalEntities

        public var signalCount: Int { signals.count }

        /// Whether `at` lies within `window` of this incident's signals about `key`, under `rules`.
        func links(_ key: EntityKey, at: Date, window: TimeInterval, rules: Rules) -> Bool {
            guard let times = seen[key], let first = times.first, let last = times.last else { return false }
            switch rules {
            case .spans:
                return at >= first.addingTimeInterval(-window) && at <= last.addingTimeInterval(window)
            case .merging:
                // The first time not before `at - window`: linked if it is not after `at + window`.
                let from = at.addingTimeInterval(-window)
                var low = 0, high = times.count
                while low < high {
                    let middle = (low + high) / 2
                    if times[middle] < from { low = middle + 1 } else { high = middle }
                }
                return low < times.count && times[low] <= at.addingTimeInterval(window)
            }
        }
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
        /// The tenant's own opening thresholds (`OpeningThresholdsSet`).
        public var openingThresholds: [SignalSource: Severity] = [:]

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
                id: e.incidentID, sequence: s.opened, confirmed: false, signals: [], severity: e.severity, sources: [], stages: [],
                priority: e.priority, seen: [:], entities: SignalEntities())
            Self.add(&candidate, e.signalID, source: e.source, severity: e.severity, tactics: e.tactics, entities: e.entities, at: e.observedAt)
            s.open[e.incidentID] = candidate
            for key in EntityKey.keys(of: e.entities) { s.openByEntity[key, default: []].insert(e.incidentID) }
        case .signalAttached(let e):
            guard s.open[e.incidentID] != nil else { return }
            if e.context == true {
                s.open[e.incidentID]!.signals.append(e.signalID)
                return
            }
            // In place: the candidate's sightings are not copied per signal.
            Self.add(
                &s.open[e.incidentID]!, e.signalID, source: e.source, severity: e.severity, tactics: e.tactics, entities: e.entities,
                at: e.observedAt)
            for key in EntityKey.keys(of: e.entities) { s.openByEntity[key, default: []].insert(e.incidentID) }
        case .incidentPriorityRaised(let e):
            if let current = s.open[e.incidentID]?.priority { s.open[e.incidentID]?.priority = max(current, e.to) }
        case .incidentConfirmed(let e):
            s.open[e.incidentID]?.confirmed = true
        case .incidentDismissed(let e):
            Self.close(&s, e.incidentID)
        case .incidentResolved(let e):
            Self.close(&s, e.incidentID)
        case .incidentAbsorbed(let e):
            guard var survivor = s.open[e.incidentID] else { return }
            Self.absorb(&survivor, s.open[e.absorbed], e)
            for key in survivor.seen.keys { s.openByEntity[key, default: []].insert(e.incidentID) }
            s.open[e.incidentID] = survivor
        case .openingThresholdsSet(let e):
            s.openingThresholds = Dictionary(e.thresholds.map { ($0.source, $0.severity) }, uniquingKeysWith: { _, last in last })
        case .incidentMerged(let e):
            // Its entities live on in the incident it was merged into: it is no closed incident to follow on from.
            guard let merged = s.open.removeValue(forKey: e.incidentID) else { return }
            for key in merged.seen.keys {
                s.openByEntity[key]?.remove(e.incidentID)
                if s.openByEntity[key]?.isEmpty == true { s.openByEntity[key] = nil }
            }
        default:
            break
        }
    }

    private static func add(
        _ c: inout Candidate, _ signal: SignalID, source: SignalSource, severity: Severity, tactics: [MitreTactic], entities: SignalEntities,
        at: Date
    ) {
        c.signals.append(signal)
        c.severity = max(c.severity, severity)
        c.sources.insert(source)
        c.entities.merge(entities)
        if let latest = tactics.max() { c.stages.insert(latest) }
        for key in EntityKey.keys(of: entities) {
            var times = c.seen[key] ?? []
            times.insert(at, at: times.lastIndex { $0 <= at }.map { $0 + 1 } ?? 0)
            c.seen[key] = times
        }
    }

    /// The remaining candidate after `e`: it takes the merged one's signals, sightings and stages (when this state
    /// holds it; a SOC merge of an incident it does not hold adds what the event says) and the event's severity,
    /// sources, entities and priority.
    private static func absorb(_ survivor: inout Candidate, _ absorbed: Candidate?, _ e: IncidentAbsorbed) {
        if let absorbed {
            let known = Set(survivor.signals)
            survivor.signals += absorbed.signals.filter { !known.contains($0) }
            survivor.stages.formUnion(absorbed.stages)
            for (key, times) in absorbed.seen { survivor.seen[key] = Self.merged(survivor.seen[key] ?? [], times) }
        } else {
            let known = Set(survivor.signals)
            survivor.signals += e.signals.filter { !known.contains($0) }
        }
        survivor.severity = max(survivor.severity, e.severity)
        survivor.sources.formUnion(e.sources)
        survivor.entities.merge(e.entities)
        if let raised = e.candidatePriority { survivor.priority = max(survivor.priority, raised) }
    }

    /// Two ordered lists of times as one.
    private static func merged(_ a: [Date], _ b: [Date]) -> [Date] {
        var out: [Date] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i] <= b[j]) {
                out.append(a[i])
                i += 1
            } else {
                out.append(b[j])
                j += 1
            }
        }
        return out
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
    public func decide(_ ingested: SignalIngested, _ state: State, newIncidentID: IncidentID, rules: Rules = .merging) -> [DomainEvent] {
        let signal = ingested.signal
        guard ingested.suppressedBy == nil, !signal.entities.isEmpty else { return [] }
        let context = !configuration.opens(signal, tenant: state.openingThresholds)
        let keys = EntityKey.keys(of: signal.entities)
        let tactics = MitreCatalog.tactics(of: signal)

        var merges: [DomainEvent] = []
        var ranked = linked(keys, at: signal.observedAt, in: state, rules: rules)
        if rules == .merging, !context {
            // Several unconfirmed candidates that this signal links are one attack: merged into the oldest, if they fit.
            // The merge is decided on copies of the candidates involved, never on a copy of the tenant's whole state.
            let candidates = ranked.map(\.candidate).filter { !$0.confirmed }.sorted { $0.sequence < $1.sequence }
            if candidates.count >= 2, candidates.reduce(1, { $0 + $1.signalCount }) <= configuration.maxSignalsPerIncident {
                var survivor = candidates[0]
                for absorbed in candidates.dropFirst() {
                    let events = IncidentMerge.events(
                        absorbed: absorbed.id, into: survivor.id, signals: absorbed.signals, entities: absorbed.entities,
                        sources: absorbed.sources.sorted { $0.rawValue < $1.rawValue }, severity: absorbed.severity,
                        candidatePriority: absorbed.priority > survivor.priority ? absorbed.priority : nil,
                        reason: "signal \(ingested.signalID) links it to incident \(survivor.id)", by: Self.actor.id, at: ingested.receivedAt)
                    if case .incidentAbsorbed(let e) = events[0] { Self.absorb(&survivor, absorbed, e) }
                    merges += events
                }
                // The merged-away candidates drop out; the survivor counts the entities it now shares with the signal.
                let gone = Set(candidates.dropFirst().map(\.id))
                let shared = keys.count { survivor.links($0, at: signal.observedAt, window: configuration.window, rules: rules) }
                ranked = (ranked.filter { !gone.contains($0.candidate.id) && $0.candidate.id != survivor.id } + [(survivor, shared)])
                    .sorted { ($0.count, -$0.candidate.sequence) > ($1.count, -$1.candidate.sequence) }
            }
        }

        if let target = ranked.first(where: { $0.candidate.signalCount < configuration.maxSignalsPerIncident })?.candidate {
            let attached = SignalAttached(
                incidentID: target.id, signalID: ingested.signalID, severity: signal.severity, source: signal.source,
                observedAt: signal.observedAt, entities: signal.entities, tactics: tactics, context: context)
            var events: [DomainEvent] = merges + [.signalAttached(attached)]
            guard !target.confirmed, !context else { return events }
            var joined = target
            Self.add(
                &joined, ingested.signalID, source: signal.source, severity: signal.severity, tactics: tactics, entities: signal.entities,
                at: signal.observedAt)
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
            id: newIncidentID, sequence: 0, confirmed: false, signals: [], severity: signal.severity, sources: [], stages: [], priority: .p4,
            seen: [:], entities: SignalEntities())
        Self.add(
            &single, ingested.signalID, source: signal.source, severity: signal.severity, tactics: tactics, entities: signal.entities,
            at: signal.observedAt)
        return merges + [
            .incidentOpened(
                IncidentOpened(
                    incidentID: newIncidentID, signalID: ingested.signalID, severity: signal.severity, openedAt: ingested.receivedAt,
                    priority: Self.proposedPriority(single).priority, source: signal.source, observedAt: signal.observedAt,
                    entities: signal.entities, tactics: tactics, linkedTo: full ?? closed))
        ]
    }

    /// The incidents a signal with `keys` observed `at` is linked to, with how many entities it shares with each: the
    /// most shared first, then the earliest opened.
    private func linked(_ keys: [EntityKey], at: Date, in state: State, rules: Rules) -> [(candidate: Candidate, count: Int)] {
        var shared: [IncidentID: Int] = [:]
        for key in keys {
            for id in state.openByEntity[key] ?? [] where state.open[id]?.links(key, at: at, window: configuration.window, rules: rules) == true {
                shared[id, default: 0] += 1
            }
        }
        return shared.compactMap { id, count in state.open[id].map { (candidate: $0, count: count) } }
            .sorted { ($0.count, -$0.candidate.sequence) > ($1.count, -$1.candidate.sequence) }
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
