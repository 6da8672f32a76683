import Foundation
import Testing

@testable import MDRDomain

@Suite("SLA policy")
struct SlaPolicyTests {
    static func t(_ raw: String) -> Date { Fixtures.time(raw) }

    @Test(
        "The default policy is DOMAIN.md's table",
        arguments: [
            (ServiceLevel.a, Priority.p1, SlaTargetKind.triage, SlaDeadlineRule.within(minutes: 15, clock: .continuous)),
            (.b, .p1, .triage, .within(minutes: 30, clock: .continuous)),
            (.a, .p1, .notify, .within(minutes: 15, clock: .continuous)),
            (.b, .p1, .notify, .within(minutes: 30, clock: .continuous)),
            (.a, .p1, .contain, .within(minutes: 60, clock: .continuous)),
            (.b, .p1, .contain, .within(minutes: 120, clock: .continuous)),
            (.a, .p2, .triage, .within(minutes: 30, clock: .continuous)),
            (.b, .p2, .triage, .within(minutes: 60, clock: .continuous)),
            (.a, .p2, .notify, .within(minutes: 60, clock: .continuous)),
            (.b, .p2, .notify, .within(minutes: 240, clock: .business)),
            (.a, .p2, .contain, .within(minutes: 240, clock: .continuous)),
            (.b, .p2, .contain, .within(minutes: 480, clock: .business)),
            (.a, .p3, .triage, .nextBusinessDay), (.b, .p3, .triage, .nextBusinessDay),
            (.a, .p4, .triage, .nextBusinessDay), (.b, .p4, .triage, .nextBusinessDay),
        ])
    func defaultTargets(sla: ServiceLevel, priority: Priority, target: SlaTargetKind, rule: SlaDeadlineRule) {
        #expect(SlaPolicy.standard.rule(sla: sla, priority: priority, target: target) == rule)
    }

    @Test func lowPrioritiesHaveNoNotifyOrContainTarget() {
        #expect(SlaPolicy.standard.targets.count == 16)
        for sla in [ServiceLevel.a, .b] {
            for priority in [Priority.p3, .p4] {
                #expect(SlaPolicy.standard.rule(sla: sla, priority: priority, target: .notify) == nil)
                #expect(SlaPolicy.standard.rule(sla: sla, priority: priority, target: .contain) == nil)
            }
        }
    }

    @Test(
        "Next business day = the closing of office hours on the first business day after the start's local date",
        arguments: [
            ("2026-03-30T10:00:00+02:00", "2026-03-31T17:30:00+02:00"),  // Monday → Tuesday
            ("2026-03-30T03:00:00+02:00", "2026-03-31T17:30:00+02:00"),  // Monday night → Tuesday, not Monday
            ("2026-03-27T20:00:00+01:00", "2026-03-30T17:30:00+02:00"),  // Friday evening → Monday, across DST
            ("2026-03-28T12:00:00+01:00", "2026-03-30T17:30:00+02:00"),  // Saturday → Monday
            ("2026-04-30T10:00:00+02:00", "2026-05-01T17:30:00+02:00"),
            ("2026-05-04T10:00:00+02:00", "2026-05-06T17:30:00+02:00"),  // over Bevrijdingsdag
            ("2026-12-31T10:00:00+01:00", "2027-01-04T17:30:00+01:00"),  // over Nieuwjaarsdag and the weekend
            ("2026-03-29T23:30:00Z", "2026-03-31T17:30:00+02:00"),  // 01:30 Monday in Amsterdam, Sunday in UTC
        ])
    func nextBusinessDayDeadline(start: String, deadline: String) {
        #expect(SlaDeadlineRule.nextBusinessDay.deadline(from: Self.t(start), on: .standard) == Self.t(deadline))
    }

    @Test func businessHoursTargetsOfSlaBSkipNightsAndWeekends() {
        // P2 notify under SLA B: 4 business hours from Friday 16:00 → Monday 10:30.
        let rule = SlaPolicy.standard.rule(sla: .b, priority: .p2, target: .notify)!
        #expect(rule.deadline(from: Self.t("2026-11-27T16:00:00+01:00"), on: .standard) == Self.t("2026-11-30T10:30:00+01:00"))
    }

    @Test func aPolicyWithADuplicateRowOrNoVersionOrANonPositiveDurationIsRefused() {
        let row = SlaPolicy.Target(.a, .p1, .triage, .within(minutes: 15, clock: .continuous))
        #expect(throws: DomainError(.invalidSlaPolicy, .invalid, "SLA A P1 triage is listed twice")) {
            try SlaPolicy(version: "x", targets: [row, row])
        }
        #expect(throws: DomainError.self) { try SlaPolicy(version: " ", targets: [row]) }
        #expect(throws: DomainError.self) {
            try SlaPolicy(version: "x", targets: [.init(.a, .p1, .triage, .within(minutes: 0, clock: .continuous))])
        }
    }

    @Test func thePolicyIsDataThatRoundTripsAsJson() throws {
        let data = try JSONCoding.encoder().encode(SlaPolicy.standard)
        let decoded = try JSONCoding.decoder().decode(SlaPolicy.self, from: data)
        #expect(decoded == .standard)
        #expect(decoded.version == "2026-11")
    }
}
