import Foundation

/// The field conditions of a suppression rule. Every condition given must match; at least one is required.
/// Text comparisons ignore case (`titleContains` is a substring match, the others whole values).
public struct SuppressionMatch: Hashable, Sendable, Codable {
    public var source: SignalSource?
    public var titleContains: String?
    public var device: DeviceID?
    public var user: String?
    public var ip: String?
    public var fileHash: String?
    public var mitreTechnique: String?

    public init(
        source: SignalSource? = nil, titleContains: String? = nil, device: DeviceID? = nil, user: String? = nil, ip: String? = nil,
        fileHash: String? = nil, mitreTechnique: String? = nil
    ) {
        self.source = source
        self.titleContains = titleContains
        self.device = device
        self.user = user
        self.ip = ip
        self.fileHash = fileHash
        self.mitreTechnique = mitreTechnique
    }

    /// The same conditions with blank text conditions removed and the rest trimmed.
    public var normalized: SuppressionMatch {
        func clean(_ s: String?) -> String? {
            guard let t = s?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else { return nil }
            return t
        }
        return SuppressionMatch(
            source: source, titleContains: clean(titleContains), device: device, user: clean(user), ip: clean(ip),
            fileHash: clean(fileHash), mitreTechnique: clean(mitreTechnique))
    }

    /// True when no condition is given (such a rule would suppress everything).
    public var isEmpty: Bool {
        let m = normalized
        return m.source == nil && m.titleContains == nil && m.device == nil && m.user == nil && m.ip == nil && m.fileHash == nil
            && m.mitreTechnique == nil
    }

    /// Whether every given condition holds for the signal. An empty match matches nothing.
    public func matches(_ signal: Signal) -> Bool {
        guard !isEmpty else { return false }
        func same(_ a: String, _ b: String) -> Bool { a.caseInsensitiveCompare(b) == .orderedSame }
        if let source, signal.source != source { return false }
        if let t = titleContains, signal.title.range(of: t, options: .caseInsensitive) == nil { return false }
        if let device, !signal.entities.devices.contains(where: { same($0.rawValue, device.rawValue) }) { return false }
        if let user, !signal.entities.users.contains(where: { same($0, user) }) { return false }
        if let ip, !signal.entities.ips.contains(where: { same($0, ip) }) { return false }
        if let fileHash, !signal.entities.fileHashes.contains(where: { same($0, fileHash) }) { return false }
        if let mitreTechnique, !signal.mitreTechniques.contains(where: { same($0, mitreTechnique) }) { return false }
        return true
    }
}

/// A tenant's suppression rule: signals it matches are stored and counted for the report, but not escalated.
public struct SuppressionRule: Hashable, Sendable, Codable {
    public var id: UUID
    public var match: SuppressionMatch
    /// Why the SOC added it (required: the audit trail of tuning).
    public var reason: String
    /// The principal's id.
    public var addedBy: String
    public var addedAt: Date
    /// When the rule stops applying on its own; nil for no expiry.
    public var expiresAt: Date?
    /// When the rule was expired by hand, and by whom.
    public var expiredAt: Date?
    public var expiredBy: String?

    public init(
        id: UUID, match: SuppressionMatch, reason: String, addedBy: String, addedAt: Date, expiresAt: Date? = nil, expiredAt: Date? = nil,
        expiredBy: String? = nil
    ) {
        self.id = id
        self.match = match
        self.reason = reason
        self.addedBy = addedBy
        self.addedAt = addedAt
        self.expiresAt = expiresAt
        self.expiredAt = expiredAt
        self.expiredBy = expiredBy
    }

    /// Whether the rule applies at `date`: neither expired by hand nor past its expiry.
    public func isActive(at date: Date) -> Bool {
        if let expiredAt, expiredAt <= date { return false }
        if let expiresAt, expiresAt <= date { return false }
        return true
    }

    /// Whether the rule suppresses the signal at `date` (an expired rule suppresses nothing).
    public func matches(_ signal: Signal, at date: Date) -> Bool {
        isActive(at: date) && match.matches(signal)
    }
}

/// A suppression rule was added to the tenant (stream `suppression-rules`).
public struct SuppressionRuleAdded: DomainEventPayload {
    public static let eventType = "SuppressionRuleAdded"
    public var ruleID: UUID
    public var match: SuppressionMatch
    public var reason: String
    public var addedBy: String
    public var addedAt: Date
    public var expiresAt: Date?

    public init(ruleID: UUID, match: SuppressionMatch, reason: String, addedBy: String, addedAt: Date, expiresAt: Date?) {
        self.ruleID = ruleID
        self.match = match
        self.reason = reason
        self.addedBy = addedBy
        self.addedAt = addedAt
        self.expiresAt = expiresAt
    }
}

/// A suppression rule was expired by hand: it no longer suppresses signals.
public struct SuppressionRuleExpired: DomainEventPayload {
    public static let eventType = "SuppressionRuleExpired"
    public var ruleID: UUID
    public var expiredBy: String
    public var expiredAt: Date

    public init(ruleID: UUID, expiredBy: String, expiredAt: Date) {
        self.ruleID = ruleID
        self.expiredBy = expiredBy
        self.expiredAt = expiredAt
    }
}

extension StreamName {
    /// The tenant's suppression rules.
    public static let suppressionRules = StreamName(rawValue: "suppression-rules")
}

extension DomainError.Code {
    public static let suppressionRuleEmpty: Self = "suppression_rule_empty"
    public static let suppressionRuleNotFound: Self = "suppression_rule_not_found"
    public static let suppressionRuleExpired: Self = "suppression_rule_expired"
}

/// A tenant's suppression rules (stream `suppression-rules`): adding and expiring them.
public enum SuppressionDecider: Decider {
    public struct State: Sendable, Equatable {
        /// The rules in the order they were added.
        public var rules: [SuppressionRule]
        public init(rules: [SuppressionRule] = []) { self.rules = rules }

        public func rule(_ id: UUID) -> SuppressionRule? { rules.first { $0.id == id } }

        /// The first rule that suppresses the signal at `date`, if any.
        public func matching(_ signal: Signal, at date: Date) -> SuppressionRule? {
            rules.first { $0.matches(signal, at: date) }
        }
    }

    public enum Command: Sendable {
        /// `id` names the new rule (ids come in as values).
        case add(id: UUID, match: SuppressionMatch, reason: String, expiresAt: Date?, by: Principal, at: Date)
        case expire(id: UUID, by: Principal, at: Date)
    }
    public typealias Event = DomainEvent

    public static let initialState = State()

    public static let maxReasonLength = 1000

    public static func decide(_ command: Command, _ state: State) throws(DomainError) -> [DomainEvent] {
        switch command {
        case .add(let id, let match, let reason, let expiresAt, let by, let at):
            let match = match.normalized
            guard !match.isEmpty else {
                throw DomainError(
                    .suppressionRuleEmpty, .invalid,
                    "a suppression rule needs at least one condition (source, titleContains, device, user, ip, fileHash, mitreTechnique)")
            }
            let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !reason.isEmpty else { throw DomainError(.reasonMissing, .invalid, "say why the signals are suppressed (reason)") }
            guard reason.count <= maxReasonLength else {
                throw DomainError(.invalidField, .invalid, "reason: at most \(maxReasonLength) characters")
            }
            if let expiresAt, expiresAt <= at {
                throw DomainError(.invalidField, .invalid, "expiresAt: the expiry must lie in the future")
            }
            guard state.rule(id) == nil else {
                throw DomainError(.invalidField, .invalid, "a suppression rule with this id exists already")
            }
            return [.suppressionRuleAdded(SuppressionRuleAdded(ruleID: id, match: match, reason: reason, addedBy: by.id, addedAt: at, expiresAt: expiresAt))]
        case .expire(let id, let by, let at):
            guard let rule = state.rule(id) else {
                throw DomainError(.suppressionRuleNotFound, .notFound, "suppression rule \(id.uuidString.lowercased()) not found")
            }
            guard rule.isActive(at: at) else {
                throw DomainError(.suppressionRuleExpired, .conflict, "suppression rule \(id.uuidString.lowercased()) has expired already")
            }
            return [.suppressionRuleExpired(SuppressionRuleExpired(ruleID: id, expiredBy: by.id, expiredAt: at))]
        }
    }

    public static func evolve(_ state: State, _ event: DomainEvent) -> State {
        var s = state
        switch event {
        case .suppressionRuleAdded(let e):
            s.rules.append(
                SuppressionRule(id: e.ruleID, match: e.match, reason: e.reason, addedBy: e.addedBy, addedAt: e.addedAt, expiresAt: e.expiresAt))
        case .suppressionRuleExpired(let e):
            if let i = s.rules.firstIndex(where: { $0.id == e.ruleID }) {
                s.rules[i].expiredAt = e.expiredAt
                s.rules[i].expiredBy = e.expiredBy
            }
        default: break
        }
        return s
    }
}
