import Foundation
import Testing

@testable import MDRDetection
import MDRDomain

/// Correlation (DOMAIN.md, "Detection"): signals sharing an entity within a window join one incident candidate,
/// several sources or a kill-chain progression raise its priority, an incident holds a bounded number of signals,
/// and a closed incident is never silently reopened.
@Suite struct CorrelatorTests {
    static let t0 = Timestamp.parse("2026-11-29T10:00:00Z")!
    static let ws42 = DeviceID(rawValue: "ws-0042")!
    static let ws43 = DeviceID(rawValue: "ws-0043")!
    static let analyst = Principal(id: "soc:anna", name: "Anna (SOC)", role: .soc, tenant: nil)

    /// A tenant's log as the correlator's process manager sees it: each ingested signal is decided on the state
    /// before it, its events are folded, and incidents are named after the signal that opened them.
    struct Log {
        var correlator = Correlator()
        var rules = Correlator.Rules.merging
        var state = Correlator.State()
        var events: [DomainEvent] = []
        var count = 0

        @discardableResult
        mutating func ingest(_ signal: Signal, receivedAt: Date? = nil, suppressed: Bool = false) -> [DomainEvent] {
            count += 1
            let ingested = SignalIngested(
                signalID: SignalID(rawValue: Self.uuid(0x2000 + count)), signal: signal, receivedAt: receivedAt ?? signal.observedAt,
                suppressedBy: suppressed ? UUID() : nil)
            append(.signalIngested(ingested))
            let decided = correlator.decide(ingested, state, newIncidentID: IncidentID(rawValue: Self.uuid(0x1000 + count)), rules: rules)
            decided.forEach { append($0) }
            return decided
        }

        mutating func append(_ event: DomainEvent) {
            events.append(event)
            state = correlator.evolve(state, event)
        }

        static func uuid(_ n: Int) -> UUID {
            let hex = String(n, radix: 16)
            return UUID(uuidString: "00000000-0000-0000-0000-" + String(repeating: "0", count: 12 - hex.count) + hex)!
        }

        var incidents: [Incident] {
            var byID: [IncidentID: Incident?] = [:]
            var order: [IncidentID] = []
            for event in events {
                guard let id = Self.incidentOf(event) else { continue }
                if byID[id] == nil { order.append(id) }
                byID[id] = IncidentDecider.evolve(byID[id] ?? nil, event)
            }
            return order.compactMap { byID[$0] ?? nil }
        }

        static func incidentOf(_ event: DomainEvent) -> IncidentID? {
            switch event {
            case .incidentOpened(let e): e.incidentID
            case .signalAttached(let e): e.incidentID
            case .incidentPriorityRaised(let e): e.incidentID
            case .incidentConfirmed(let e): e.incidentID
            case .incidentDismissed(let e): e.incidentID
            case .incidentResolved(let e): e.incidentID
            case .incidentAbsorbed(let e): e.incidentID
            case .incidentMerged(let e): e.incidentID
            default: nil
            }
        }

        /// The incidents as groups of the source alert ids of their signals, following merges to the incident that remains.
        var partition: Set<Set<String>> {
            var alertOf: [SignalID: String] = [:]
            for case .signalIngested(let e) in events { alertOf[e.signalID] = e.signal.sourceAlertID }
            return Set(incidents.filter { $0.status != .merged }.map { Set($0.signals.compactMap { alertOf[$0] }) })
        }

        mutating func triage(_ incident: IncidentID, _ command: IncidentDecider.Command) throws {
            let current = incidents.first { $0.id == incident }
            try IncidentDecider.decide(command, current).forEach { append($0) }
        }
    }

    static func signal(
        _ id: String, _ source: SignalSource = .endpoint, severity: Severity = .high, minutes: Double = 0, devices: [DeviceID] = [],
        users: [String] = [], ips: [String] = [], hashes: [String] = [], techniques: [String] = []
    ) -> Signal {
        Signal(
            source: source, sourceAlertID: id, severity: severity, title: "alert \(id)", observedAt: t0.addingTimeInterval(minutes * 60),
            entities: SignalEntities(devices: devices, users: users, ips: ips, fileHashes: hashes), mitreTechniques: techniques)
    }

    @Test func aSignalThatSharesNoEntityWithAnOpenIncidentOpensOneWithThePriorityOfItsSeverity() {
        var log = Log()
        log.ingest(Self.signal("a", severity: .high, devices: [Self.ws42]))
        log.ingest(Self.signal("b", severity: .medium, minutes: 1, devices: [Self.ws43]))
        log.ingest(Self.signal("c", severity: .critical, minutes: 2, users: ["piet@acme.example"]))
        log.ingest(Self.signal("d", severity: .low, minutes: 3, hashes: [String(repeating: "a", count: 64)]))
        #expect(log.incidents.map(\.candidatePriority) == [.p2, .p3, .p1, .p4])
        #expect(log.incidents.allSatisfy { $0.signals.count == 1 && $0.status == .open })
    }

    /// A severity the service does not know (a newer Graph value) opens an incident and is prioritised as medium: an
    /// alert is never down-ranked for it. Beside a known severity, the known one names the incident's severity.
    @Test func anUnknownSeverityOpensAnIncidentPrioritisedAsMedium() {
        var log = Log()
        log.ingest(Self.signal("a", severity: .unknown, devices: [Self.ws42]))
        #expect(log.incidents.map(\.candidatePriority) == [.p3])
        log.ingest(Self.signal("b", severity: .low, minutes: 1, devices: [Self.ws43]))
        log.ingest(Self.signal("c", severity: .unknown, minutes: 2, devices: [Self.ws43]))
        #expect(log.incidents.map(\.candidatePriority) == [.p3, .p3])
        #expect(Severity.unknown > .low && Severity.unknown < .medium)
    }

    @Test(arguments: [
        ("device", signal("b", minutes: 10, devices: [ws42])),
        ("user, compared without case", signal("b", minutes: 10, users: ["ANNA@acme.example"])),
        ("ip", signal("b", .firewall, minutes: 10, ips: ["10.0.0.42"])),
        ("file hash", signal("b", .antivirus, minutes: 10, hashes: [String(repeating: "c", count: 64)])),
    ])
    func aSignalSharingAnyEntityWithinTheWindowJoinsTheIncident(entity: String, second: Signal) {
        var log = Log()
        log.ingest(
            Self.signal("a", devices: [Self.ws42], users: ["anna@acme.example"], ips: ["10.0.0.42"], hashes: [String(repeating: "c", count: 64)]))
        log.ingest(second)
        #expect(log.incidents.count == 1, "joined by \(entity)")
        #expect(log.incidents.first?.signals.count == 2)
    }

    /// The firewall's log of the attack arrives 45 minutes late over syslog, as relays deliver it: placed at its own
    /// time (its syslog header's here), it joins the incident of the ransomware it belongs to; placed at its arrival
    /// it would open an incident of its own.
    @Test func aFirewallLogThatArrivesLateJoinsTheIncidentOfItsAttack() throws {
        var log = Log()
        log.ingest(Self.signal("da-1", .endpoint, severity: .high, devices: [Self.ws42], ips: ["10.0.0.42"]))
        let arrival = Self.t0.addingTimeInterval(45 * 60)
        let line = "<134>Nov 29 10:20:00 fw01 CEF:0|Fortinet|Fortigate|7.2|0419016384|ips:botnet|8|src=10.0.0.42 dst=203.0.113.66"
        let firewall = try CEFParser.signal(from: line[...], receivedAt: arrival).get()
        #expect(firewall.observedAt == Self.t0.addingTimeInterval(20 * 60))
        log.ingest(firewall, receivedAt: arrival)
        #expect(log.incidents.count == 1)
        #expect(log.incidents.first?.signals.count == 2)
    }

    @Test func theWindowIsMeasuredFromEachSignalAboutTheEntityInObservedTimeBothWays() {
        var log = Log()
        log.ingest(Self.signal("a", minutes: 0, devices: [Self.ws42]))
        log.ingest(Self.signal("b", minutes: 25, devices: [Self.ws42]))  // joins; the device was last seen at 25
        log.ingest(Self.signal("c", minutes: 50, devices: [Self.ws42]))  // 25 minutes after b: joins
        log.ingest(Self.signal("late", minutes: 5, devices: [Self.ws42]), receivedAt: Self.t0.addingTimeInterval(3600))  // late delivery, within 30 min of a: joins
        log.ingest(Self.signal("d", minutes: 81, devices: [Self.ws42]))  // 31 minutes after c: a new incident
        #expect(log.incidents.map(\.signals.count) == [4, 1])
    }

    @Test func suppressedInformationalAndEntityLessSignalsAreNotEscalated() {
        var log = Log()
        #expect(log.ingest(Self.signal("a", devices: [Self.ws42]), suppressed: true).isEmpty)
        #expect(log.ingest(Self.signal("b", severity: .informational, devices: [Self.ws42])).isEmpty)
        #expect(log.ingest(Self.signal("c")).isEmpty)
        #expect(log.incidents.isEmpty)
    }

    /// A firewall's low log (traffic or an accept without a threat verdict) opens nothing on its own: at real firewall
    /// volumes every such log would be a P4 with a triage timer.
    @Test func aFirewallsLowLogAloneOpensNothingButAThreatDoes() {
        var log = Log()
        #expect(log.ingest(Self.signal("accept", .firewall, severity: .low, ips: ["10.0.0.42", "203.0.113.9"])).isEmpty)
        #expect(log.incidents.isEmpty)
        log.ingest(Self.signal("c2", .firewall, severity: .high, minutes: 1, ips: ["10.0.0.77", "203.0.113.66"]))
        #expect(log.incidents.map(\.candidatePriority) == [.p2])
    }

    /// Below its source's threshold a signal joins an incident that shares an entity as context: shown in the incident,
    /// but it raises nothing (no second source) and adds no entity, so an accept log from a NAT address does not pull
    /// the other hosts behind it into the attack.
    @Test func aSignalBelowItsThresholdJoinsAsContextAndAddsNothingToDecideOn() {
        var log = Log()
        log.ingest(Self.signal("ransom", .endpoint, severity: .high, devices: [Self.ws42], ips: ["10.0.0.42"]))
        // The firewall's accept log of ws-0042's traffic, through the office's NAT address.
        let accept = log.ingest(Self.signal("accept", .firewall, severity: .low, minutes: 2, ips: ["10.0.0.42", "198.51.100.1"]))
        guard case .signalAttached(let attached)? = accept.first else {
            Issue.record("the accept log did not join: \(accept)")
            return
        }
        #expect(attached.context == true)
        #expect(accept.count == 1, "no priority raised for a second source")
        #expect(log.incidents.first?.signals.count == 2)
        #expect(log.incidents.first?.candidatePriority == .p2)
        // Another host behind the same NAT address: not part of this attack.
        log.ingest(Self.signal("other", .endpoint, severity: .medium, minutes: 3, devices: [Self.ws43], ips: ["198.51.100.1"]))
        #expect(log.incidents.count == 2)
        // An informational alert about the device joins as context too.
        let info = log.ingest(Self.signal("info", .endpoint, severity: .informational, minutes: 4, devices: [Self.ws42]))
        #expect(info.count == 1)
        if case .signalAttached(let e)? = info.first { #expect(e.context == true && e.incidentID == attached.incidentID) }
    }

    /// The thresholds are configuration: a tenant in its tuning period may let low firewall logs open incidents.
    @Test func theOpeningThresholdIsConfigurablePerSource() {
        var log = Log(correlator: Correlator(configuration: .init(openingThresholds: [.firewall: .low])))
        log.ingest(Self.signal("accept", .firewall, severity: .low, ips: ["10.0.0.42"]))
        #expect(log.incidents.map(\.candidatePriority) == [.p4])
    }

    /// A tenant's own thresholds (the SOC's tuning, in its log) replace the defaults for the sources they name, from
    /// where they were set on.
    @Test func aTenantsOwnThresholdsReplaceTheDefaultsForTheSourcesTheyName() {
        var log = Log()
        log.ingest(Self.signal("accept-1", .firewall, severity: .low, ips: ["10.0.0.42"]))
        #expect(log.incidents.isEmpty)
        log.append(
            .openingThresholdsSet(
                OpeningThresholdsSet(
                    thresholds: [OpeningThreshold(source: .firewall, severity: .low), OpeningThreshold(source: .endpoint, severity: .high)],
                    reason: "tuning", setBy: "soc:anna", setAt: Self.t0)))
        log.ingest(Self.signal("accept-2", .firewall, severity: .low, minutes: 1, ips: ["10.0.0.77"]))
        log.ingest(Self.signal("noisy", .endpoint, severity: .medium, minutes: 2, devices: [Self.ws43]))
        log.ingest(Self.signal("av", .antivirus, severity: .low, minutes: 3, hashes: [String(repeating: "d", count: 64)]))
        #expect(log.partition == [["accept-2"], ["av"]], "the firewall's low log opens; the endpoint's medium no longer; antivirus as before")
    }

    @Test func loopbackAndLinkLocalAddressesDoNotJoinUnrelatedMachines() {
        var log = Log()
        log.ingest(Self.signal("a", devices: [Self.ws42], ips: ["127.0.0.1", "fe80::1", "169.254.10.1"]))
        log.ingest(Self.signal("b", minutes: 1, devices: [Self.ws43], ips: ["127.0.0.1", "fe80::1", "169.254.10.1"]))
        #expect(log.incidents.count == 2)
    }

    /// Confirmed incidents are not merged automatically: a signal linked to several joins one of them.
    @Test func whenSeveralConfirmedIncidentsQualifyTheOneSharingMostEntitiesWinsThenTheEarliest() throws {
        var log = Log()
        log.ingest(Self.signal("a", devices: [Self.ws42]))
        log.ingest(Self.signal("b", minutes: 1, devices: [Self.ws43], users: ["piet@acme.example"]))
        for incident in log.incidents {
            try log.triage(incident.id, .confirm(priority: .p2, summary: "real", by: Self.analyst, at: Self.t0))
        }
        log.ingest(Self.signal("c", minutes: 2, devices: [Self.ws42, Self.ws43], users: ["piet@acme.example"]))
        log.ingest(Self.signal("d", minutes: 3, devices: [Self.ws42], users: ["piet@acme.example"]))
        let incidents = log.incidents
        #expect(incidents.count == 2)
        #expect(incidents.map(\.signals.count) == [1, 3], "c shares two entities with the second incident, one with the first")
        log.ingest(Self.signal("e", minutes: 4, hashes: [String(repeating: "e", count: 64)]))
        log.ingest(Self.signal("f", minutes: 5, devices: [DeviceID(rawValue: "ws-0099")!], hashes: [String(repeating: "e", count: 64)]))
        log.ingest(Self.signal("g", minutes: 6, users: ["piet@acme.example"], hashes: [String(repeating: "e", count: 64)]))
        #expect(log.incidents.map(\.signals.count) == [1, 4, 2], "g shares one entity with the second and third: the earlier wins")
        #expect(!log.events.contains { if case .incidentMerged = $0 { true } else { false } })
    }

    // MARK: Merging candidates

    /// Two candidates about one attack (a user's sign-in, a device's malware) are one when a signal names both: the
    /// older remains and takes the other's signals; the other closes as merged into it.
    @Test func aSignalLinkingTwoCandidatesMergesThemIntoTheOlder() throws {
        var log = Log()
        log.ingest(Self.signal("signin", .microsoft365, severity: .medium, users: ["anna@acme.example"]))
        log.ingest(Self.signal("malware", .endpoint, severity: .high, minutes: 5, devices: [Self.ws42]))
        #expect(log.incidents.count == 2)
        let (older, newer) = (log.incidents[0].id, log.incidents[1].id)
        let events = log.ingest(Self.signal("logon", .endpoint, severity: .medium, minutes: 6, devices: [Self.ws42], users: ["anna@acme.example"]))
        guard case .incidentAbsorbed(let absorbed)? = events.first, case .incidentMerged(let merged)? = events.dropFirst().first else {
            Issue.record("expected a merge first, got \(events)")
            return
        }
        #expect(absorbed.incidentID == older && absorbed.absorbed == newer)
        #expect(absorbed.candidatePriority == .p2, "the merged candidate's higher priority")
        #expect(merged.incidentID == newer && merged.into == older)
        #expect(merged.mergedBy == Correlator.actor.id)
        let incidents = log.incidents
        #expect(incidents.map(\.status) == [.open, .merged])
        #expect(incidents[1].mergedInto == older)
        #expect(incidents[0].signals.count == 3)
        #expect(incidents[0].devices == [Self.ws42])
        #expect(Set(incidents[0].sources) == [.microsoft365, .endpoint])
        // The two sources raise the remaining candidate once more.
        #expect(incidents[0].candidatePriority == .p1)
        // A later signal about either entity joins the remaining incident.
        log.ingest(Self.signal("more", .endpoint, severity: .low, minutes: 7, devices: [Self.ws42]))
        #expect(log.incidents.map(\.signals.count) == [4, 1])
    }

    @Test func aConfirmedIncidentIsNotMergedAutomatically() throws {
        var log = Log()
        log.ingest(Self.signal("signin", .microsoft365, severity: .medium, users: ["anna@acme.example"]))
        try log.triage(log.incidents[0].id, .confirm(priority: .p2, summary: "account takeover", by: Self.analyst, at: Self.t0))
        log.ingest(Self.signal("malware", .endpoint, severity: .high, minutes: 5, devices: [Self.ws42]))
        log.ingest(Self.signal("logon", .endpoint, severity: .medium, minutes: 6, devices: [Self.ws42], users: ["anna@acme.example"]))
        #expect(log.incidents.map(\.status) == [.confirmed, .open])
        #expect(log.incidents.map(\.signals.count) == [2, 1], "joined the earlier, confirmed incident (one shared entity each)")
    }

    @Test func candidatesThatWouldExceedTheCapTogetherAreNotMerged() {
        var log = Log(correlator: Correlator(configuration: .init(maxSignalsPerIncident: 3)))
        log.ingest(Self.signal("a1", users: ["anna@acme.example"]))
        log.ingest(Self.signal("a2", minutes: 1, users: ["anna@acme.example"]))
        log.ingest(Self.signal("b1", minutes: 2, devices: [Self.ws42]))
        log.ingest(Self.signal("link", minutes: 3, devices: [Self.ws42], users: ["anna@acme.example"]))
        #expect(log.incidents.map(\.status) == [.open, .open])
        #expect(log.incidents.map(\.signals.count) == [3, 1], "2 + 1 + the link would be 4")
    }

    /// A log decided before merging existed reads as it was decided: by the span rule, without merges. The two rules
    /// differ for a signal inside an entity's span but more than the window from each of its signals.
    @Test func underTheSpanRulesNothingIsMergedAndAnEntitysWholeSpanLinks() {
        var spans = Log(rules: .spans)
        spans.ingest(Self.signal("signin", .microsoft365, severity: .medium, users: ["anna@acme.example"]))
        spans.ingest(Self.signal("malware", .endpoint, severity: .high, minutes: 5, devices: [Self.ws42]))
        spans.ingest(Self.signal("logon", .endpoint, severity: .medium, minutes: 6, devices: [Self.ws42], users: ["anna@acme.example"]))
        #expect(spans.incidents.map(\.status) == [.open, .open])

        // ws-0043 is seen at 0 and 70, linked through piet's signals at 25 and 50.
        func chain(_ log: inout Log) {
            log.ingest(Self.signal("d0", minutes: 0, devices: [Self.ws43], users: ["piet@acme.example"]))
            log.ingest(Self.signal("u25", minutes: 25, users: ["piet@acme.example"]))
            log.ingest(Self.signal("u50", minutes: 50, users: ["piet@acme.example"]))
            log.ingest(Self.signal("d70", minutes: 70, devices: [Self.ws43], users: ["piet@acme.example"]))
            log.ingest(Self.signal("d35", minutes: 35, devices: [Self.ws43]))
        }
        var old = Log(rules: .spans), new = Log()
        chain(&old)
        chain(&new)
        #expect(old.partition == [["d0", "u25", "u50", "d70", "d35"]])
        #expect(new.partition == [["d0", "u25", "u50", "d70"], ["d35"]], "35 minutes from both of ws-0043's signals")
    }

    @Test func aDismissedOrResolvedIncidentIsNotReopenedANewOneLinksToIt() throws {
        var log = Log()
        log.ingest(Self.signal("a", devices: [Self.ws42]))
        let first = log.incidents[0].id
        try log.triage(first, .dismiss(classification: .falsePositive, reason: "admin test", by: Self.analyst, at: Self.t0))
        log.ingest(Self.signal("b", minutes: 2, devices: [Self.ws42]))
        #expect(log.incidents.count == 2)
        #expect(log.incidents[1].linkedTo == first)
        let second = log.incidents[1].id
        try log.triage(second, .confirm(priority: .p2, summary: "real", by: Self.analyst, at: Self.t0))
        try log.triage(second, .resolve(resolution: "reimaged", by: Self.analyst, at: Self.t0))
        log.ingest(Self.signal("c", minutes: 4, devices: [Self.ws42]))
        #expect(log.incidents.map(\.status) == [.dismissed, .resolved, .open])
        #expect(log.incidents[2].linkedTo == second, "the most recently closed incident")
    }

    @Test func aConfirmedIncidentStillCollectsSignalsButKeepsTheAnalystsPriority() throws {
        var log = Log()
        log.ingest(Self.signal("a", severity: .medium, devices: [Self.ws42]))
        try log.triage(log.incidents[0].id, .confirm(priority: .p3, summary: "adware", by: Self.analyst, at: Self.t0))
        let events = log.ingest(Self.signal("b", .firewall, severity: .critical, minutes: 1, devices: [Self.ws42]))
        #expect(events.count == 1, "attached, not raised")
        #expect(log.incidents[0].signals.count == 2)
        #expect(log.incidents[0].priority == .p3)
    }

    @Test func anIncidentHoldsAtMostTheCapTheNextSignalOpensALinkedIncident() {
        var log = Log(correlator: Correlator(configuration: .init(maxSignalsPerIncident: 3)))
        for n in 0..<7 { log.ingest(Self.signal("s\(n)", minutes: Double(n), devices: [Self.ws42])) }
        let incidents = log.incidents
        #expect(incidents.map(\.signals.count) == [3, 3, 1])
        #expect(incidents[1].linkedTo == incidents[0].id)
        #expect(incidents[2].linkedTo == incidents[1].id)
    }

    @Test func aSecondSourceRaisesThePriorityOneStepAThirdTwoWithTheReason() {
        var log = Log()
        log.ingest(Self.signal("a", .endpoint, severity: .medium, devices: [Self.ws42], ips: ["10.0.0.42"]))
        let second = log.ingest(Self.signal("b", .firewall, severity: .medium, minutes: 1, ips: ["10.0.0.42"]))
        guard case .incidentPriorityRaised(let raised)? = second.last else {
            Issue.record("expected a raise, got \(second)")
            return
        }
        #expect((raised.from, raised.to) == (.p3, .p2))
        #expect(raised.reasons == ["signals from 2 sources (endpoint, firewall)"])
        log.ingest(Self.signal("c", .antivirus, severity: .low, minutes: 2, devices: [Self.ws42]))
        #expect(log.incidents[0].candidatePriority == .p1)
        #expect(log.ingest(Self.signal("d", .microsoft365, severity: .low, minutes: 3, devices: [Self.ws42])).count == 1, "capped at two steps and at P1")
    }

    @Test func aKillChainProgressionRaisesThePriority() {
        var log = Log()
        let user = ["anna@acme.example"]
        log.ingest(Self.signal("a", .microsoft365, severity: .medium, users: user, techniques: ["T1566.001"]))  // initial access
        log.ingest(Self.signal("b", .microsoft365, severity: .medium, minutes: 5, users: user, techniques: ["T1059.001"]))  // execution
        #expect(log.incidents[0].candidatePriority == .p3, "two stages, none late: no raise")
        let third = log.ingest(Self.signal("c", .microsoft365, severity: .medium, minutes: 9, users: user, techniques: ["T1021"]))
        guard case .incidentPriorityRaised(let raised)? = third.last else {
            Issue.record("expected a raise, got \(third)")
            return
        }
        #expect(raised.to == .p2)
        #expect(raised.reasons == ["kill chain: initial-access → lateral-movement across 3 stages"])
    }

    @Test func oneTechniqueWithManyTacticsIsOneStageNotAProgression() {
        var log = Log()
        // T1078 (valid accounts) is initial access, persistence, privilege escalation and defense evasion at once.
        log.ingest(Self.signal("a", .microsoft365, severity: .medium, users: ["x@acme.example"], techniques: ["T1078", "T1021"]))
        log.ingest(Self.signal("b", .microsoft365, severity: .medium, minutes: 1, users: ["x@acme.example"], techniques: ["T1078"]))
        #expect(log.incidents[0].candidatePriority == .p3)
    }

    @Test func theSameLogGivesTheSameIncidents() {
        func run() -> [DomainEvent] {
            var log = Log()
            for n in 0..<40 {
                let device = [Self.ws42, Self.ws43][n % 2]
                log.ingest(Self.signal("s\(n)", [.endpoint, .firewall, .antivirus][n % 3], minutes: Double(n * 7), devices: [device], ips: ["10.0.0.\(n % 5)"]))
            }
            return log.events
        }
        #expect(run() == run())
    }

    // MARK: The attack of the service description, from the sources' own formats

    /// Phishing mail → risky sign-in → mailbox rule → ransomware behaviour on the endpoint → firewall C2 traffic, as
    /// Defender XDR (Graph alerts v2) and a Check Point firewall (CEF) report them: one candidate, proposed as P1.
    @Test func thePhishingToRansomwareAttackBecomesOneP1Candidate() throws {
        let graph = """
            {"value": [
             {"id": "fa-phish-1", "serviceSource": "microsoftDefenderForOffice365", "severity": "medium", "category": "InitialAccess",
              "title": "Email messages containing malicious URL removed after delivery", "createdDateTime": "2026-11-29T10:02:00Z",
              "mitreTechniques": ["T1566.002"],
              "evidence": [{"@odata.type": "#microsoft.graph.security.analyzedMessageEvidence", "recipientEmailAddress": "anna@acme.example",
                            "senderIp": "198.51.100.7", "subject": "Factuur 2026-118"}]},
             {"id": "ad-risky-1", "serviceSource": "azureAdIdentityProtection", "severity": "medium", "category": "InitialAccess",
              "title": "Unfamiliar sign-in properties", "createdDateTime": "2026-11-29T10:08:00Z", "mitreTechniques": ["T1078.004"],
              "evidence": [{"@odata.type": "#microsoft.graph.security.userEvidence", "userAccount": {"userPrincipalName": "anna@acme.example"}},
                           {"@odata.type": "#microsoft.graph.security.ipEvidence", "ipAddress": "203.0.113.66"}]},
             {"id": "fa-rule-1", "serviceSource": "microsoftDefenderForCloudApps", "severity": "medium", "category": "Collection",
              "title": "Suspicious inbox manipulation rule", "createdDateTime": "2026-11-29T10:12:00Z", "mitreTechniques": ["T1564.008", "T1114.003"],
              "evidence": [{"@odata.type": "#microsoft.graph.security.mailboxEvidence", "primaryAddress": "anna@acme.example"}]},
             {"id": "da-ransom-1", "serviceSource": "microsoftDefenderForEndpoint", "severity": "high", "category": "Ransomware",
              "title": "Ransomware behavior detected in the file system", "createdDateTime": "2026-11-29T10:15:30Z", "mitreTechniques": ["T1486"],
              "evidence": [{"@odata.type": "#microsoft.graph.security.deviceEvidence", "mdeDeviceId": "73e7e2de709dff64ef64b1d0c30e67fab63279db",
                            "deviceDnsName": "ws-0042.acme.local", "ipInterfaces": ["10.0.0.42", "127.0.0.1"]},
                           {"@odata.type": "#microsoft.graph.security.userEvidence", "userAccount": {"userPrincipalName": "anna@acme.example"}}]}
            ]}
            """
        let alerts = try GraphAlertParser.parseBatch(Data(graph.utf8))
        #expect(alerts.rejections.isEmpty)
        // The firewall sees the infected machine beacon to its C2 server; it names the address, not the user.
        let c2 =
            "<134>1 2026-11-29T10:21:08Z cp-mgmt CheckPoint 2519 - - CEF:0|Check Point|Anti Bot|Check Point|Log|Detect|High|"
            + "act=Detect rt=1795947668000 src=10.0.0.42 dst=203.0.113.99 spt=51234 dpt=443 proto=6 msg=Connection to a known C&C server"
        let firewall = CEFParser.parseLines(c2, receivedAt: Self.t0)
        #expect(firewall.rejections.isEmpty)

        var log = Log()
        for signal in alerts.signals.map(\.1) + firewall.signals.map(\.1) { log.ingest(signal) }

        let incidents = log.incidents
        #expect(incidents.count == 1)
        #expect(incidents.first?.signals.count == 5)
        #expect(incidents.first?.candidatePriority == .p1)
        #expect(Set(incidents.first?.sources ?? []) == [.microsoft365, .endpoint, .firewall])
        let raises = log.events.compactMap { if case .incidentPriorityRaised(let e) = $0 { e } else { nil } }
        #expect(raises.last?.to == .p1)
    }
}
