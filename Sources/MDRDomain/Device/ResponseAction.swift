import Foundation

/// What the responder asks the EDR to do for a request in the log.
public enum ResponseActionKind: String, Sendable, Codable, CaseIterable {
    /// Cut the device off the network (`DeviceIsolationRequested`).
    case isolate
    /// Give an isolated device its network back (`DeviceReleaseRequested`).
    case release
    /// Stop the processes of a file and quarantine it (`FileQuarantineRequested`).
    case stopAndQuarantineFile
}

/// The EDR accepted an action for a request; the responder polls it by `edrActionID` until it is final.
///
/// Appended before polling starts, so a restarted responder resumes polling this action instead of submitting again.
/// `edrActionID` is nil when the EDR reported an action of the same kind already running and it could not be adopted.
public struct EDRActionSubmitted: DomainEventPayload {
    public static let eventType = "EDRActionSubmitted"
    public var deviceID: DeviceID
    public var incidentID: IncidentID?
    public var action: ResponseActionKind
    public var edrActionID: String?
    /// The id of the request event (`DeviceIsolationRequested`, `DeviceReleaseRequested`, `FileQuarantineRequested`).
    public var requestEventID: UUID
    public var submittedAt: Date

    public init(
        deviceID: DeviceID, incidentID: IncidentID?, action: ResponseActionKind, edrActionID: String?, requestEventID: UUID, submittedAt: Date
    ) {
        self.deviceID = deviceID
        self.incidentID = incidentID
        self.action = action
        self.edrActionID = edrActionID
        self.requestEventID = requestEventID
        self.submittedAt = submittedAt
    }
}

/// The EDR reported that a release failed, or it could not be asked: the device stays isolated.
public struct DeviceReleaseFailed: DomainEventPayload {
    public static let eventType = "DeviceReleaseFailed"
    public var deviceID: DeviceID
    public var reason: String
    public var failedAt: Date
    public var edrActionID: String?

    public init(deviceID: DeviceID, reason: String, failedAt: Date, edrActionID: String?) {
        self.deviceID = deviceID
        self.reason = reason
        self.failedAt = failedAt
        self.edrActionID = edrActionID
    }
}

/// An analyst asked to stop every process running a file (by SHA-1) on a device and quarantine the file.
public struct FileQuarantineRequested: DomainEventPayload {
    public static let eventType = "FileQuarantineRequested"
    public var deviceID: DeviceID
    public var incidentID: IncidentID
    /// 40 lowercase hex characters.
    public var sha1: String
    public var comment: String
    public var requestedBy: String
    public var requestedAt: Date

    public init(deviceID: DeviceID, incidentID: IncidentID, sha1: String, comment: String, requestedBy: String, requestedAt: Date) {
        self.deviceID = deviceID
        self.incidentID = incidentID
        self.sha1 = sha1
        self.comment = comment
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
    }
}

/// The EDR reported the file's processes stopped and the file quarantined.
public struct FileQuarantined: DomainEventPayload {
    public static let eventType = "FileQuarantined"
    public var deviceID: DeviceID
    public var incidentID: IncidentID
    public var sha1: String
    public var quarantinedAt: Date
    public var edrActionID: String?

    public init(deviceID: DeviceID, incidentID: IncidentID, sha1: String, quarantinedAt: Date, edrActionID: String?) {
        self.deviceID = deviceID
        self.incidentID = incidentID
        self.sha1 = sha1
        self.quarantinedAt = quarantinedAt
        self.edrActionID = edrActionID
    }
}

/// Stopping and quarantining the file failed, or the EDR could not be asked.
public struct FileQuarantineFailed: DomainEventPayload {
    public static let eventType = "FileQuarantineFailed"
    public var deviceID: DeviceID
    public var incidentID: IncidentID
    public var sha1: String
    public var reason: String
    public var failedAt: Date
    public var edrActionID: String?

    public init(deviceID: DeviceID, incidentID: IncidentID, sha1: String, reason: String, failedAt: Date, edrActionID: String?) {
        self.deviceID = deviceID
        self.incidentID = incidentID
        self.sha1 = sha1
        self.reason = reason
        self.failedAt = failedAt
        self.edrActionID = edrActionID
    }
}

extension DomainError.Code {
    /// A file hash is not a SHA-1 (40 hex characters).
    public static let invalidSHA1: Self = "invalid_sha1"
}

/// A SHA-1 as Defender's StopAndQuarantineFile wants it: 40 hex characters, lowercased; nil otherwise.
public func normalizedSHA1(_ raw: String) -> String? {
    let text = raw.trimmingCharacters(in: .whitespaces).lowercased()
    guard text.utf8.count == 40, text.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
    return text
}
