import Foundation

/// What an SLA target measures.
public enum SlaTargetKind: String, Sendable, Codable, CaseIterable, Comparable {
    /// Opened → confirmed or dismissed.
    case triage
    /// Confirmed → delivered to Dynamic. P1 and P2 only.
    case notify
    /// Confirmed → device isolated (or the incident resolved without it). P1 and P2 only.
    case contain

    public static func < (a: SlaTargetKind, b: SlaTargetKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The clock a target's time runs on.
public enum SlaClockKind: String, Sendable, Codable {
    /// Real time, 24/7.
    case continuous
    /// Office hours only, outside Dutch public holidays and the tenant's days off (`BusinessClock`).
    case business
}

/// How a target's deadline follows from its start.
public enum SlaDeadlineRule: Hashable, Sendable, Codable, CustomStringConvertible {
    /// A number of minutes on a clock: `15 min, 24/7`, `4 business hours` = 240 business minutes.
    case within(minutes: Int, clock: SlaClockKind)
    /// "Next business day" (P3/P4): the closing of office hours on the first business day after the start's
    /// local date. Opened Monday 10:00 → Tuesday 17:30; Friday 20:00 → Monday 17:30; Saturday → Monday 17:30.
    case nextBusinessDay

    /// The deadline of a timer started at `start`.
    public func deadline(from start: Date, on clock: BusinessClock) -> Date {
        switch self {
        case .within(let minutes, .continuous): start.addingTimeInterval(TimeInterval(minutes) * 60)
        case .within(let minutes, .business): clock.adding(businessMinutes: minutes, to: start)
        case .nextBusinessDay: clock.officeHours(on: clock.nextBusinessDay(after: clock.localDate(of: start)))!.end
        }
    }

    /// The clock the target's elapsed time is measured on.
    public var clockKind: SlaClockKind {
        switch self {
        case .within(_, let clock): clock
        case .nextBusinessDay: .business
        }
    }

    /// Seconds between `start` and `end` on this rule's clock.
    public func elapsed(from start: Date, to end: Date, on clock: BusinessClock) -> TimeInterval {
        switch clockKind {
        case .continuous: max(0, end.timeIntervalSince(start))
        case .business: clock.businessSeconds(from: start, to: end)
        }
    }

    public var description: String {
        switch self {
        case .within(let minutes, .continuous): "\(minutes) min, 24/7"
        case .within(let minutes, .business): "\(minutes) business min"
        case .nextBusinessDay: "next business day"
        }
    }
}

/// The SLA targets as versioned data: per SLA (A, B), priority and target kind, a deadline rule. Each timer and
/// each `SlaBreached` records the version it was measured against, so a later policy never rewrites old figures.
public struct SlaPolicy: Hashable, Sendable, Codable {
    /// One row of the policy table.
    public struct Target: Hashable, Sendable, Codable {
        public var sla: ServiceLevel
        public var priority: Priority
        public var target: SlaTargetKind
        public var rule: SlaDeadlineRule

        public init(_ sla: ServiceLevel, _ priority: Priority, _ target: SlaTargetKind, _ rule: SlaDeadlineRule) {
            self.sla = sla
            self.priority = priority
            self.target = target
            self.rule = rule
        }
    }

    /// Names this version of the policy (e.g. `2026-11`); recorded on timers and breaches.
    public let version: String
    public let targets: [Target]

    /// Refused with `invalid_sla_policy` for an empty version, a duplicate row or a non-positive duration.
    public init(version: String, targets: [Target]) throws(DomainError) {
        guard !version.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw DomainError(.invalidSlaPolicy, .invalid, "an SLA policy needs a version name")
        }
        var seen = Set<String>()
        for t in targets {
            guard seen.insert("\(t.sla.rawValue)/\(t.priority.rawValue)/\(t.target.rawValue)").inserted else {
                throw DomainError(.invalidSlaPolicy, .invalid, "SLA \(t.sla.rawValue) \(t.priority.rawValue) \(t.target.rawValue) is listed twice")
            }
            if case .within(let minutes, _) = t.rule, minutes <= 0 {
                throw DomainError(.invalidSlaPolicy, .invalid, "SLA \(t.sla.rawValue) \(t.priority.rawValue) \(t.target.rawValue) needs a positive duration")
            }
        }
        self.version = version
        self.targets = targets
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(version: c.decode(String.self, forKey: .version), targets: c.decode([Target].self, forKey: .targets))
    }

    /// The rule for a target, or nil when the policy sets none (no timer runs).
    public func rule(sla: ServiceLevel, priority: Priority, target: SlaTargetKind) -> SlaDeadlineRule? {
        targets.first { $0.sla == sla && $0.priority == priority && $0.target == target }?.rule
    }

    /// The defaults of `DOMAIN.md` ("SLA targets"). P3/P4 have a triage target only: notify and contain apply to
    /// confirmed P1/P2 incidents.
    public static let standard: SlaPolicy = {
        func minutes(_ m: Int) -> SlaDeadlineRule { .within(minutes: m, clock: .continuous) }
        func businessHours(_ h: Int) -> SlaDeadlineRule { .within(minutes: h * 60, clock: .business) }
        return try! SlaPolicy(
            version: "2026-11",
            targets: [
                Target(.a, .p1, .triage, minutes(15)), Target(.b, .p1, .triage, minutes(30)),
                Target(.a, .p1, .notify, minutes(15)), Target(.b, .p1, .notify, minutes(30)),
                Target(.a, .p1, .contain, minutes(60)), Target(.b, .p1, .contain, minutes(120)),
                Target(.a, .p2, .triage, minutes(30)), Target(.b, .p2, .triage, minutes(60)),
                Target(.a, .p2, .notify, minutes(60)), Target(.b, .p2, .notify, businessHours(4)),
                Target(.a, .p2, .contain, minutes(240)), Target(.b, .p2, .contain, businessHours(8)),
                Target(.a, .p3, .triage, .nextBusinessDay), Target(.b, .p3, .triage, .nextBusinessDay),
                Target(.a, .p4, .triage, .nextBusinessDay), Target(.b, .p4, .triage, .nextBusinessDay),
            ])
    }()
}

/// What a tenant's timers are measured against: its SLA, the policy version in effect, and its business clock.
public struct SlaTerms: Sendable {
    public var sla: ServiceLevel
    public var policy: SlaPolicy
    public var clock: BusinessClock

    public init(sla: ServiceLevel, policy: SlaPolicy = .standard, clock: BusinessClock = .standard) {
        self.sla = sla
        self.policy = policy
        self.clock = clock
    }
}

extension DomainError.Code {
    /// An SLA policy that cannot be used: no version, a duplicate row, or a non-positive duration.
    public static let invalidSlaPolicy: Self = "invalid_sla_policy"
}
