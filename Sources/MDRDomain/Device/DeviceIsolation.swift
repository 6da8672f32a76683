import Foundation

/// Where a device stands with respect to network isolation.
public enum IsolationState: String, Sendable, Codable {
    case none
    /// Requested; the EDR has not yet reported success or failure.
    case pending
    case isolated
    /// The EDR reported that isolation failed.
    case failed
    /// Release requested; the EDR has not yet reported it done.
    case releasePending = "release_pending"
    case released
}

/// Full isolation cuts all network traffic but the EDR's; selective keeps Outlook, Teams and Skype working.
public enum IsolationType: String, Sendable, Codable, CaseIterable {
    case full = "Full"
    case selective = "Selective"
}

/// One entry of a device's isolation history: who did what, when, why, for which incident.
public struct IsolationHistoryEntry: Hashable, Sendable, Codable {
    public var state: IsolationState
    public var at: Date
    public var by: String
    public var incidentID: IncidentID?
    public var note: String?
}

/// A device's isolation state as its events make it (stream `device:<id>`).
public struct DeviceIsolation: Hashable, Sendable, Codable {
    public var deviceID: DeviceID
    public var state: IsolationState
    /// The incident the current or last isolation was for.
    public var incidentID: IncidentID?
    public var history: [IsolationHistoryEntry]

    public init(deviceID: DeviceID) {
        self.deviceID = deviceID
        self.state = .none
        self.incidentID = nil
        self.history = []
    }
}

// MARK: Events

public struct DeviceIsolationRequested: DomainEventPayload {
    public static let eventType = "DeviceIsolationRequested"
    public var deviceID: DeviceID
    public var incidentID: IncidentID
    public var isolationType: IsolationType
    public var comment: String
    public var requestedBy: String
    public var requestedAt: Date
}

/// The EDR reported the device isolated.
public struct DeviceIsolated: DomainEventPayload {
    public static let eventType = "DeviceIsolated"
    public var deviceID: DeviceID
    public var incidentID: IncidentID
    public var isolatedAt: Date
    public var edrActionID: String?

    public init(deviceID: DeviceID, incidentID: IncidentID, isolatedAt: Date, edrActionID: String?) {
        self.deviceID = deviceID
        self.incidentID = incidentID
        self.isolatedAt = isolatedAt
        self.edrActionID = edrActionID
    }
}

/// The EDR reported that isolation failed.
public struct DeviceIsolationFailed: DomainEventPayload {
    public static let eventType = "DeviceIsolationFailed"
    public var deviceID: DeviceID
    public var incidentID: IncidentID
    public var reason: String
    public var failedAt: Date
    public var edrActionID: String?

    public init(deviceID: DeviceID, incidentID: IncidentID, reason: String, failedAt: Date, edrActionID: String?) {
        self.deviceID = deviceID
        self.incidentID = incidentID
        self.reason = reason
        self.failedAt = failedAt
        self.edrActionID = edrActionID
    }
}

public struct DeviceReleaseRequested: DomainEventPayload {
    public static let eventType = "DeviceReleaseRequested"
    public var deviceID: DeviceID
    public var reason: String
    public var requestedBy: String
    public var requestedAt: Date
}

/// The EDR reported the device released.
public struct DeviceReleased: DomainEventPayload {
    public static let eventType = "DeviceReleased"
    public var deviceID: DeviceID
    public var releasedAt: Date
    public var edrActionID: String?

    public init(deviceID: DeviceID, releasedAt: Date, edrActionID: String?) {
        self.deviceID = deviceID
        self.releasedAt = releasedAt
        self.edrActionID = edrActionID
    }
}

// MARK: Decider

/// The device aggregate: isolation and release, decided against the incident and the tenant's consent.
public enum DeviceDecider: Decider {
    public typealias Event = DomainEvent

    /// Isolation decides on three aggregates: the device, the incident that justifies it, and the tenant (consent).
    public struct State: Sendable, Equatable {
        public var device: DeviceIsolation?
        public init(device: DeviceIsolation?) { self.device = device }
    }

    public enum Command: Sendable {
        case isolate(
            deviceID: DeviceID, incident: Incident?, tenant: Tenant?, type: IsolationType, comment: String, by: Principal, at: Date)
        case release(deviceID: DeviceID, reason: String, by: Principal, at: Date)
        /// Stop every process running the file and quarantine it (the ransomware case); needs what isolation needs but
        /// does not depend on the device's isolation state.
        case stopAndQuarantineFile(
            deviceID: DeviceID, incident: Incident?, tenant: Tenant?, sha1: String, comment: String, by: Principal, at: Date)
    }

    public static let initialState = State(device: nil)

    public static func decide(_ command: Command, _ state: State) throws(DomainError) -> [DomainEvent] {
        switch command {
        case .isolate(let deviceID, let incident, let tenant, let type, let comment, let by, let at):
            let incident = try justifyIntervention(deviceID: deviceID, incident: incident, tenant: tenant, action: "isolation")
            switch state.device?.state ?? .none {
            case .isolated:
                throw DomainError(.deviceAlreadyIsolated, .conflict, "device '\(deviceID)' is already isolated")
            case .pending:
                throw DomainError(.deviceIsolationPending, .conflict, "device '\(deviceID)' is already being isolated")
            case .releasePending:
                throw DomainError(.deviceReleasePending, .conflict, "device '\(deviceID)' is being released: wait for the release to finish")
            case .none, .failed, .released:
                break
            }
            let text = comment.trimmingSpaces
            guard !text.isEmpty, text.count <= 1000 else {
                throw DomainError(.reasonMissing, .invalid, "a comment (1–1000 characters) is required: it is sent to the EDR and kept as evidence")
            }
            return [
                .deviceIsolationRequested(
                    DeviceIsolationRequested(
                        deviceID: deviceID, incidentID: incident.id, isolationType: type, comment: text, requestedBy: by.id, requestedAt: at))
            ]
        case .release(let deviceID, let reason, let by, let at):
            switch state.device?.state ?? .none {
            case .isolated, .pending:
                break
            case .releasePending:
                throw DomainError(.deviceReleasePending, .conflict, "device '\(deviceID)' is already being released")
            case .none, .failed, .released:
                throw DomainError(.deviceNotIsolated, .conflict, "device '\(deviceID)' is not isolated")
            }
            let text = reason.trimmingSpaces
            guard !text.isEmpty, text.count <= 1000 else {
                throw DomainError(.reasonMissing, .invalid, "a reason (1–1000 characters) is required, e.g. 'threat cleaned up'")
            }
            return [.deviceReleaseRequested(DeviceReleaseRequested(deviceID: deviceID, reason: text, requestedBy: by.id, requestedAt: at))]
        case .stopAndQuarantineFile(let deviceID, let incident, let tenant, let sha1, let comment, let by, let at):
            let incident = try justifyIntervention(deviceID: deviceID, incident: incident, tenant: tenant, action: "stopping a file")
            guard let hash = normalizedSHA1(sha1) else {
                throw DomainError(.invalidSHA1, .invalid, "'\(sha1.prefix(80))' is not a SHA-1: give the file's SHA-1 as 40 hex characters")
            }
            let text = comment.trimmingSpaces
            guard !text.isEmpty, text.count <= 1000 else {
                throw DomainError(.reasonMissing, .invalid, "a comment (1–1000 characters) is required: it is sent to the EDR and kept as evidence")
            }
            return [
                .fileQuarantineRequested(
                    FileQuarantineRequested(deviceID: deviceID, incidentID: incident.id, sha1: hash, comment: text, requestedBy: by.id, requestedAt: at))
            ]
        }
    }

    /// The checks every intervention on a device shares: the tenant exists and consented, and a confirmed incident of
    /// it involves the device. Returns the incident.
    static func justifyIntervention(deviceID: DeviceID, incident: Incident?, tenant: Tenant?, action: String) throws(DomainError) -> Incident {
        guard let tenant else { throw DomainError(.tenantNotFound, .notFound, "tenant not found") }
        guard let incident else {
            throw DomainError(.incidentNotFound, .notFound, "incident not found: \(action) needs a confirmed incident of this tenant")
        }
        switch incident.status {
        case .open:
            throw DomainError(.incidentNotConfirmed, .conflict, "incident \(incident.id) is not confirmed: only a confirmed attack justifies \(action)")
        case .dismissed, .resolved, .merged:
            try IncidentDecider.refuseIfClosed(incident)
        case .confirmed:
            break
        }
        guard incident.involves(deviceID) else {
            throw DomainError(.deviceNotInIncident, .conflict, "device '\(deviceID)' is not involved in incident \(incident.id)")
        }
        guard tenant.consent != nil else {
            throw DomainError(.consentMissing, .conflict, "tenant '\(tenant.id)' has no consent to intervene on file: contact the customer through Dynamic")
        }
        return incident
    }

    public static func evolve(_ state: State, _ event: DomainEvent) -> State {
        func updated(_ id: DeviceID, _ change: (inout DeviceIsolation) -> Void) -> State {
            var device = state.device ?? DeviceIsolation(deviceID: id)
            change(&device)
            return State(device: device)
        }
        switch event {
        case .deviceIsolationRequested(let e):
            return updated(e.deviceID) {
                $0.state = .pending
                $0.incidentID = e.incidentID
                $0.history.append(.init(state: .pending, at: e.requestedAt, by: e.requestedBy, incidentID: e.incidentID, note: e.comment))
            }
        case .deviceIsolated(let e):
            return updated(e.deviceID) {
                // A release requested while isolation was pending stays pending: the responder releases next.
                if $0.state != .releasePending { $0.state = .isolated }
                $0.history.append(.init(state: .isolated, at: e.isolatedAt, by: "edr", incidentID: e.incidentID, note: nil))
            }
        case .deviceIsolationFailed(let e):
            return updated(e.deviceID) {
                $0.state = .failed
                $0.history.append(.init(state: .failed, at: e.failedAt, by: "edr", incidentID: e.incidentID, note: e.reason))
            }
        case .deviceReleaseRequested(let e):
            return updated(e.deviceID) {
                $0.state = .releasePending
                $0.history.append(.init(state: .releasePending, at: e.requestedAt, by: e.requestedBy, incidentID: $0.incidentID, note: e.reason))
            }
        case .deviceReleased(let e):
            return updated(e.deviceID) {
                $0.state = .released
                $0.history.append(.init(state: .released, at: e.releasedAt, by: "edr", incidentID: $0.incidentID, note: nil))
            }
        case .deviceReleaseFailed(let e):
            return updated(e.deviceID) {
                // The release did not happen: the device is still cut off and may be released again.
                $0.state = .isolated
                $0.history.append(.init(state: .isolated, at: e.failedAt, by: "edr", incidentID: $0.incidentID, note: "release failed: \(e.reason)"))
            }
        default:
            return state
        }
    }
}
