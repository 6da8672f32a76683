import Foundation
import Testing

@testable import MDRDetection
import MDRDomain

/// The incidents a set of signals forms do not depend on the order the sources deliver them in (issue 15): for
/// generated multi-source scenarios, every delivery order tried — with delivery delays up to the window — gives the
/// same partition of signals into incidents, and that partition is the reference one: the connected groups of
/// "shares an entity with, observed within the window of".
@Suite struct CorrelationOrderPropertyTests {
    /// A fixed-seed generator: a failure names its seed and reproduces.
    typealias SplitMix = CEFEscapingPropertyTests.SeededGenerator

    static let window: TimeInterval = 30 * 60
    static let devices = ["ws-0001", "ws-0002", "srv-01"].map { DeviceID(rawValue: $0)! }
    /// Two spellings of one account: accounts compare without case.
    static let users = ["anna@acme.example", "piet@acme.example", "PIET@acme.example"]
    static let ips = ["10.0.0.42", "203.0.113.66"]
    static let hashes = [String(repeating: "ab", count: 32)]

    /// 3–7 signals that may open incidents, from the four sources, naming one or two entities from a small pool, observed
    /// within 100 minutes (whole minutes, so that signals exactly one window apart occur).
    static func scenario(_ rng: inout SplitMix) -> [Signal] {
        (0..<Int.random(in: 3...7, using: &rng)).map { n in
            var entities = SignalEntities()
            for _ in 0..<Int.random(in: 1...2, using: &rng) {
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: entities.merge(SignalEntities(devices: [devices.randomElement(using: &rng)!]))
                case 1: entities.merge(SignalEntities(users: [users.randomElement(using: &rng)!]))
                case 2: entities.merge(SignalEntities(ips: [ips.randomElement(using: &rng)!]))
                default: entities.merge(SignalEntities(fileHashes: [hashes.randomElement(using: &rng)!]))
                }
            }
            let source = SignalSource.allCases.randomElement(using: &rng)!
            // A firewall's low log only gives context; the property is about signals that may open incidents.
            let severities: [Severity] = source == .firewall ? [.medium, .high, .critical] : [.low, .medium, .high, .critical, .unknown]
            return Signal(
                source: source, sourceAlertID: "s\(n)", severity: severities.randomElement(using: &rng)!, title: "signal \(n)",
                observedAt: CorrelatorTests.t0.addingTimeInterval(Double(Int.random(in: 0...100, using: &rng)) * 60), entities: entities)
        }
    }

    /// The reference partition: signals linked when they share an entity key and lie within the window of each other,
    /// grouped transitively.
    static func reference(_ signals: [Signal]) -> Set<Set<String>> {
        var parent = Array(signals.indices)
        func root(_ i: Int) -> Int { parent[i] == i ? i : root(parent[i]) }
        for i in signals.indices {
            for j in signals.indices where j > i {
                let shared = !Set(Correlator.EntityKey.keys(of: signals[i].entities)).isDisjoint(with: Correlator.EntityKey.keys(of: signals[j].entities))
                if shared, abs(signals[i].observedAt.timeIntervalSince(signals[j].observedAt)) <= window { parent[root(i)] = root(j) }
            }
        }
        return Set(Dictionary(grouping: signals.indices, by: root).values.map { Set($0.map { signals[$0].sourceAlertID }) })
    }

    static func partition(_ signals: [Signal], delays: [TimeInterval]) -> Set<Set<String>> {
        var log = CorrelatorTests.Log()
        for (signal, delay) in zip(signals, delays) { log.ingest(signal, receivedAt: signal.observedAt.addingTimeInterval(delay)) }
        return log.partition
    }

    @Test(arguments: 0..<60)
    func everyDeliveryOrderGivesTheSamePartitionAsTheReference(seed: Int) {
        var rng = SplitMix(state: UInt64(seed) &* 7919 &+ 1)
        let signals = Self.scenario(&rng)
        let expected = Self.reference(signals)
        var orders = [signals, signals.reversed()]
        for _ in 0..<40 { orders.append(signals.shuffled(using: &rng)) }
        for order in orders {
            let delays = order.map { _ in Double(Int.random(in: 0...30, using: &rng)) * 60 }
            let got = Self.partition(order, delays: delays)
            #expect(got == expected, "seed \(seed), order \(order.map(\.sourceAlertID))")
            if got != expected { return }
        }
    }

    /// The scenario of the issue: the Microsoft signals, then the endpoint's, then the firewall's C2 detection arriving
    /// late — in every order, one incident; the allowed-traffic log of another host behind the NAT address opens none.
    @Test func theAttackOfTheIssueIsOneIncidentInEveryOrder() {
        let t0 = CorrelatorTests.t0
        func at(_ minutes: Double) -> Date { t0.addingTimeInterval(minutes * 60) }
        let ws42 = DeviceID(rawValue: "ws-0042")!
        let attack = [
            Signal(
                source: .microsoft365, sourceAlertID: "phish", severity: .medium, title: "phishing mail", observedAt: at(0),
                entities: SignalEntities(users: ["anna@acme.example"], ips: ["198.51.100.7"])),
            Signal(
                source: .microsoft365, sourceAlertID: "signin", severity: .medium, title: "risky sign-in", observedAt: at(6),
                entities: SignalEntities(users: ["Anna@acme.example"], ips: ["203.0.113.66"])),
            Signal(
                source: .microsoft365, sourceAlertID: "rule", severity: .medium, title: "inbox rule", observedAt: at(10),
                entities: SignalEntities(users: ["anna@acme.example"])),
            Signal(
                source: .endpoint, sourceAlertID: "ransom", severity: .high, title: "ransomware", observedAt: at(13),
                entities: SignalEntities(devices: [ws42], users: ["anna@acme.example"], ips: ["10.0.0.42"])),
            Signal(
                source: .firewall, sourceAlertID: "c2", severity: .high, title: "C2 traffic", observedAt: at(19),
                entities: SignalEntities(ips: ["10.0.0.42", "203.0.113.99"])),
        ]
        let allowed = Signal(
            source: .firewall, sourceAlertID: "allowed", severity: .low, title: "traffic: forward close", observedAt: at(20),
            entities: SignalEntities(ips: ["198.51.100.1", "10.0.0.77"]))
        var rng = SplitMix(state: 15)
        for _ in 0..<30 {
            let order = (attack + [allowed]).shuffled(using: &rng)
            var log = CorrelatorTests.Log()
            for signal in order { log.ingest(signal, receivedAt: signal.observedAt.addingTimeInterval(signal.source == .firewall ? 45 * 60 : 60)) }
            #expect(log.partition == [["phish", "signin", "rule", "ransom", "c2"]], "order \(order.map(\.sourceAlertID))")
            #expect(log.incidents.filter { $0.status == .open }.first?.candidatePriority == .p1, "three sources on a high: P1")
        }
    }
}
