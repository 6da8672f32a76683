import Foundation

/// Where a signal comes from: the four sources the SOC watches.
public enum SignalSource: String, Sendable, Codable, CaseIterable {
    /// Endpoint detection (Defender for Endpoint).
    case endpoint
    /// Microsoft 365: sign-ins, accounts, mail and files (Entra ID, Defender for Office 365, Cloud Apps).
    case microsoft365
    /// The firewall (CEF over syslog).
    case firewall
    /// Antivirus on the devices (Defender Antivirus).
    case antivirus
}

/// Severity as the source reports it.
///
/// `unknown` is a value the source gave that is none of these (a Graph alert's `unknown` or a value newer than the
/// parser): it ranks just below `medium` and is prioritised as `medium` (`Correlator.proposedPriority`), so an alert
/// is never down-ranked for a value the service does not know; the signal keeps the raw value (`Signal.rawSeverity`).
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
    case informational, low, unknown, medium, high, critical

    private var rank: Int { Severity.allCases.firstIndex(of: self)! }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// The status of the alert at its source.
public enum SignalStatus: String, Sendable, Codable, CaseIterable {
    case new, inProgress, resolved
}

/// The technical entities a signal names. Only identifiers: no content.
public struct SignalEntities: Hashable, Sendable, Codable {
    public var devices: [DeviceID]
    /// Account identifiers (UPN or SID).
    public var users: [String]
    public var ips: [String]
    /// SHA-1 or SHA-256 of files, lowercase hex.
    public var fileHashes: [String]

    public init(devices: [DeviceID] = [], users: [String] = [], ips: [String] = [], fileHashes: [String] = []) {
        self.devices = devices
        self.users = users
        self.ips = ips
        self.fileHashes = fileHashes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        devices = try c.decodeIfPresent([DeviceID].self, forKey: .devices) ?? []
        users = try c.decodeIfPresent([String].self, forKey: .users) ?? []
        ips = try c.decodeIfPresent([String].self, forKey: .ips) ?? []
        fileHashes = try c.decodeIfPresent([String].self, forKey: .fileHashes) ?? []
    }

    public var isEmpty: Bool { devices.isEmpty && users.isEmpty && ips.isEmpty && fileHashes.isEmpty }

    /// Adds the other entities that are not here yet, keeping first-seen order.
    public mutating func merge(_ other: SignalEntities) {
        for d in other.devices where !devices.contains(d) { devices.append(d) }
        for u in other.users where !users.contains(u) { users.append(u) }
        for ip in other.ips where !ips.contains(ip) { ips.append(ip) }
        for h in other.fileHashes where !fileHashes.contains(h) { fileHashes.append(h) }
    }
}

/// A normalised signal: what every source format becomes before it is stored. Technical metadata only.
public struct Signal: Hashable, Sendable, Codable {
    public var source: SignalSource
    /// The alert's id at its source; a repeat of the same id is a duplicate or an update, never a new signal.
    public var sourceAlertID: String
    public var severity: Severity
    public var status: SignalStatus
    /// The detection's name ("Suspicious PowerShell command line"), never message content.
    public var title: String
    /// When the source observed it.
    public var observedAt: Date
    public var entities: SignalEntities
    /// MITRE ATT&CK technique ids (`T1566.001`).
    public var mitreTechniques: [String]
    /// The source's category of the alert (Graph `category`: `InitialAccess`, `Ransomware`, …), when it gives one.
    public var category: String?
    /// The id of the alert at the detecting product (Graph `providerAlertId`), when it differs from `sourceAlertID`.
    public var providerAlertID: String?
    /// The source's own incident the alert belongs to (Graph `incidentId`): a hint, the correlator decides.
    public var providerIncidentID: String?
    /// The severity as the source gave it, when it mapped to `unknown` (`critical` from a newer Graph, `unknownFutureValue`).
    public var rawSeverity: String?

    public init(
        source: SignalSource, sourceAlertID: String, severity: Severity, status: SignalStatus = .new, title: String,
        observedAt: Date, entities: SignalEntities, mitreTechniques: [String] = [], category: String? = nil,
        providerAlertID: String? = nil, providerIncidentID: String? = nil, rawSeverity: String? = nil
    ) {
        self.rawSeverity = rawSeverity
        self.category = category
        self.providerAlertID = providerAlertID
        self.providerIncidentID = providerIncidentID
        self.source = source
        self.sourceAlertID = sourceAlertID
        self.severity = severity
        self.status = status
        self.title = title
        self.observedAt = observedAt
        self.entities = entities
        self.mitreTechniques = mitreTechniques
    }

    /// The stream that holds this alert's history in its tenant's log.
    public var stream: StreamName { .signal(source, sourceAlertID) }
}

/// A signal as stored: the normalised signal plus the service's id for it and when it arrived.
public struct SignalIngested: DomainEventPayload {
    public static let eventType = "SignalIngested"
    public var signalID: SignalID
    public var signal: Signal
    public var receivedAt: Date
    /// The tenant's suppression rule that matched the signal when it arrived: stored and counted, not escalated.
    /// Absent (nil) for signals that no rule suppressed.
    public var suppressedBy: UUID?

    public init(signalID: SignalID, signal: Signal, receivedAt: Date, suppressedBy: UUID? = nil) {
        self.signalID = signalID
        self.signal = signal
        self.receivedAt = receivedAt
        self.suppressedBy = suppressedBy
    }
}

/// The same alert arrived again with a new status or severity.
public struct SignalUpdated: DomainEventPayload {
    public static let eventType = "SignalUpdated"
    public var signalID: SignalID
    public var source: SignalSource
    public var sourceAlertID: String
    public var status: SignalStatus
    public var severity: Severity
    public var receivedAt: Date

    public init(signalID: SignalID, source: SignalSource, sourceAlertID: String, status: SignalStatus, severity: Severity, receivedAt: Date) {
        self.signalID = signalID
        self.source = source
        self.sourceAlertID = sourceAlertID
        self.status = status
        self.severity = severity
        self.receivedAt = receivedAt
    }
}
