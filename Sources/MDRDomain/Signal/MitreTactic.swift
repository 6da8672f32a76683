import Foundation

/// A MITRE ATT&CK Enterprise tactic: the attacker's goal behind a technique. Declared in kill-chain order, so that
/// `<` says which stage comes later in an attack (reconnaissance first, impact last).
public enum MitreTactic: String, Sendable, Codable, CaseIterable, Comparable {
    case reconnaissance
    case resourceDevelopment = "resource-development"
    case initialAccess = "initial-access"
    case execution
    case persistence
    case privilegeEscalation = "privilege-escalation"
    case defenseEvasion = "defense-evasion"
    case credentialAccess = "credential-access"
    case discovery
    case lateralMovement = "lateral-movement"
    case collection
    case commandAndControl = "command-and-control"
    case exfiltration
    case impact

    /// The position in the kill chain, 0 for reconnaissance.
    public var stage: Int { MitreTactic.allCases.firstIndex(of: self)! }
    public static func < (a: MitreTactic, b: MitreTactic) -> Bool { a.stage < b.stage }
}
