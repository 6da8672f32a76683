import Foundation
import Testing

@testable import MDRDomain

/// Suppression rules (DOMAIN.md, "Noise"): field matches, optional expiry, who added them and why.
@Suite struct SuppressionTests {
    static let ruleA = UUID(uuidString: "00000000-0000-0000-0000-0000000000a1")!
    static let ruleB = UUID(uuidString: "00000000-0000-0000-0000-0000000000b2")!

    func add(
        _ match: SuppressionMatch, id: UUID = ruleA, reason: String = "nightly backup job", expiresAt: Date? = nil,
        at: Date = Fixtures.t0, to state: SuppressionDecider.State = .init()
    ) throws(DomainError) -> [DomainEvent] {
        try SuppressionDecider.decide(.add(id: id, match: match, reason: reason, expiresAt: expiresAt, by: Fixtures.analyst, at: at), state)
    }

    func state(_ events: [DomainEvent]) -> SuppressionDecider.State { SuppressionDecider.fold(events) }

    func refusal(_ body: () throws -> Void) -> DomainError? {
        do {
            try body()
            return nil
        } catch { return error as? DomainError }
    }

    // MARK: Adding

    @Test func aRuleIsAddedWithWhoWhenAndWhy() throws {
        let events = try add(SuppressionMatch(device: Fixtures.ws42, mitreTechnique: "T1486"), expiresAt: Fixtures.t0(plusMinutes: 60))
        #expect(events == [
            .suppressionRuleAdded(
                SuppressionRuleAdded(
                    ruleID: Self.ruleA, match: SuppressionMatch(device: Fixtures.ws42, mitreTechnique: "T1486"), reason: "nightly backup job",
                    addedBy: Fixtures.analyst.id, addedAt: Fixtures.t0, expiresAt: Fixtures.t0(plusMinutes: 60)))
        ])
        #expect(events.first?.stream == .suppressionRules)
        let rule = try #require(state(events).rule(Self.ruleA))
        #expect(rule.addedBy == Fixtures.analyst.id)
        #expect(rule.isActive(at: Fixtures.t0(plusMinutes: 59)))
        #expect(!rule.isActive(at: Fixtures.t0(plusMinutes: 60)))
    }

    @Test func aRuleWithoutAConditionIsRefused() {
        #expect(refusal { _ = try add(SuppressionMatch()) }?.code == .suppressionRuleEmpty)
        #expect(refusal { _ = try add(SuppressionMatch(titleContains: "  ", user: "")) }?.code == .suppressionRuleEmpty)
    }

    @Test func aRuleWithoutAReasonIsRefused() {
        let error = refusal { _ = try add(SuppressionMatch(ip: "10.0.0.1"), reason: " \n") }
        #expect(error?.code == .reasonMissing)
        #expect(error?.kind == .invalid)
    }

    @Test func anExpiryInThePastIsRefused() {
        #expect(refusal { _ = try add(SuppressionMatch(ip: "10.0.0.1"), expiresAt: Fixtures.t0(plusMinutes: -1)) }?.code == .invalidField)
        #expect(refusal { _ = try add(SuppressionMatch(ip: "10.0.0.1"), expiresAt: Fixtures.t0) }?.code == .invalidField)
    }

    // MARK: Expiring

    @Test func aRuleIsExpiredOnceAndThenNoLonger() throws {
        var s = state(try add(SuppressionMatch(ip: "10.0.0.1")))
        let expired = try SuppressionDecider.decide(.expire(id: Self.ruleA, by: Fixtures.analyst, at: Fixtures.t0(plusMinutes: 5)), s)
        #expect(expired == [.suppressionRuleExpired(SuppressionRuleExpired(ruleID: Self.ruleA, expiredBy: Fixtures.analyst.id, expiredAt: Fixtures.t0(plusMinutes: 5)))])
        s = SuppressionDecider.fold(expired, from: s)
        #expect(s.rule(Self.ruleA)?.expiredBy == Fixtures.analyst.id)
        let again = refusal { _ = try SuppressionDecider.decide(.expire(id: Self.ruleA, by: Fixtures.analyst, at: Fixtures.t0(plusMinutes: 6)), s) }
        #expect(again?.code == .suppressionRuleExpired)
        #expect(again?.kind == .conflict)
    }

    @Test func aRulePastItsExpiryCannotBeExpiredAgain() throws {
        let s = state(try add(SuppressionMatch(ip: "10.0.0.1"), expiresAt: Fixtures.t0(plusMinutes: 10)))
        let error = refusal { _ = try SuppressionDecider.decide(.expire(id: Self.ruleA, by: Fixtures.analyst, at: Fixtures.t0(plusMinutes: 11)), s) }
        #expect(error?.code == .suppressionRuleExpired)
    }

    @Test func expiringAnUnknownRuleIsNotFound() {
        let error = refusal { _ = try SuppressionDecider.decide(.expire(id: Self.ruleB, by: Fixtures.analyst, at: Fixtures.t0), .init()) }
        #expect(error?.code == .suppressionRuleNotFound)
        #expect(error?.kind == .notFound)
    }

    // MARK: Matching

    @Test func everyGivenConditionMustMatch() {
        let signal = Signal(
            source: .endpoint, sourceAlertID: "a-1", severity: .high, title: "Nightly BACKUP script ran", observedAt: Fixtures.t0,
            entities: SignalEntities(devices: [Fixtures.ws42], users: ["Svc@Acme.example"], ips: ["10.0.0.1"], fileHashes: ["ABCDEF"]),
            mitreTechniques: ["T1059.001"])
        #expect(SuppressionMatch(source: .endpoint).matches(signal))
        #expect(!SuppressionMatch(source: .firewall).matches(signal))
        #expect(SuppressionMatch(titleContains: "backup script").matches(signal), "title matches ignore case")
        #expect(!SuppressionMatch(titleContains: "restore").matches(signal))
        #expect(SuppressionMatch(device: Fixtures.ws42, user: "svc@acme.example").matches(signal))
        #expect(!SuppressionMatch(device: Fixtures.ws43, user: "svc@acme.example").matches(signal), "all given conditions must match")
        #expect(SuppressionMatch(ip: "10.0.0.1", fileHash: "abcdef", mitreTechnique: "t1059.001").matches(signal))
        #expect(!SuppressionMatch(ip: "10.0.0.2").matches(signal))
        #expect(!SuppressionMatch().matches(signal), "an empty match matches nothing")
    }

    @Test func expiredRulesSuppressNothing() throws {
        let signal = Fixtures.signal()
        var s = state(try add(SuppressionMatch(device: Fixtures.ws42), expiresAt: Fixtures.t0(plusMinutes: 10)))
        #expect(s.matching(signal, at: Fixtures.t0(plusMinutes: 9))?.id == Self.ruleA)
        #expect(s.matching(signal, at: Fixtures.t0(plusMinutes: 10)) == nil)

        s = SuppressionDecider.fold(try add(SuppressionMatch(source: .endpoint), id: Self.ruleB, to: s), from: s)
        #expect(s.matching(signal, at: Fixtures.t0(plusMinutes: 20))?.id == Self.ruleB)
        s = SuppressionDecider.fold(
            try SuppressionDecider.decide(.expire(id: Self.ruleB, by: Fixtures.analyst, at: Fixtures.t0(plusMinutes: 30)), s), from: s)
        #expect(s.matching(signal, at: Fixtures.t0(plusMinutes: 31)) == nil)
        #expect(s.rules.first { $0.id == Self.ruleB }?.matches(signal, at: Fixtures.t0(plusMinutes: 31)) == false)
    }

    // MARK: Signals

    @Test func aNewSignalMatchedByARuleIsStoredSuppressedAndADuplicateStaysADuplicate() throws {
        let signal = Fixtures.signal()
        let decided = try SignalDecider.decide(
            .init(signal: signal, newID: Fixtures.signalID(1), receivedAt: Fixtures.t0, suppressedBy: Self.ruleA), SignalDecider.initialState)
        #expect(decided == [.signalIngested(SignalIngested(signalID: Fixtures.signalID(1), signal: signal, receivedAt: Fixtures.t0, suppressedBy: Self.ruleA))])
        #expect(SignalDecider.outcome(of: decided) == .suppressed)
        let state = SignalDecider.fold(decided)
        let again = try SignalDecider.decide(
            .init(signal: signal, newID: Fixtures.signalID(2), receivedAt: Fixtures.t0, suppressedBy: Self.ruleA), state)
        #expect(SignalDecider.outcome(of: again) == .duplicate)
    }

    @Test func aSignalIngestedStoredWithoutSuppressedByDecodesAsNotSuppressed() throws {
        let plain = DomainEvent.signalIngested(Fixtures.ingested(1))
        let data = EventCodec.encode(plain)
        #expect(!String(decoding: data, as: UTF8.self).contains("suppressedBy"), "unsuppressed signals are stored as before")
        guard case .signalIngested(let decoded) = try EventCodec.decode(type: "SignalIngested", schemaVersion: 1, data: data) else {
            Issue.record("not a SignalIngested")
            return
        }
        #expect(decoded.suppressedBy == nil)
    }
}
