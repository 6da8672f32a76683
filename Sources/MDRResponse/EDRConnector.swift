import Foundation

/// How much of the network an isolated machine keeps.
public enum EDRIsolationType: String, Sendable, Hashable, Codable, CaseIterable {
    /// No network except the EDR's own channel.
    case full = "Full"
    /// Only a limited set of applications is cut off (Defender "Selective").
    case selective = "Selective"
}

/// The identity of one action at the EDR vendor (Defender: the machine action's `id`).
public struct EDRActionID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The vendor's identifier.
    public let rawValue: String
    /// Wraps a vendor identifier.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The vendor's identifier.
    public var description: String { rawValue }
}

/// The state of an EDR action as the vendor reports it.
public enum EDRActionStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Accepted, not yet picked up by the device.
    case pending = "Pending"
    /// The device is carrying it out.
    case inProgress = "InProgress"
    /// Done.
    case succeeded = "Succeeded"
    /// The device could not carry it out.
    case failed = "Failed"
    /// The device did not report back in time (the vendor gave up).
    case timeOut = "TimeOut"
    /// Someone cancelled it.
    case cancelled = "Cancelled"

    /// Whether the action will not change any more.
    public var isFinal: Bool {
        switch self {
        case .pending, .inProgress: false
        case .succeeded, .failed, .timeOut, .cancelled: true
        }
    }
}

/// What submitting an action produced.
public enum EDRSubmission: Sendable, Hashable {
    /// The vendor accepted a new action; poll it by this id.
    case submitted(EDRActionID)
    /// The vendor refused because an action of the same kind is already pending or in progress on the machine.
    /// Treated as success of the request (idempotent): the running action will reach the same end state.
    case alreadyInProgress

    /// The new action's id, when there is one.
    public var actionID: EDRActionID? {
        if case .submitted(let id) = self { id } else { nil }
    }
}

/// An endpoint detection and response product that can contain machines and stop files.
public protocol EDRConnector: Sendable {
    /// Cuts a machine off the network.
    /// - Parameter idempotencyKey: the same key returns the first submission instead of submitting again.
    func isolate(
        machine: String, type: EDRIsolationType, comment: String, idempotencyKey: String
    ) async throws(EDRError) -> EDRSubmission

    /// Gives an isolated machine its network back.
    func release(machine: String, comment: String, idempotencyKey: String) async throws(EDRError) -> EDRSubmission

    /// Stops every process running the file with this SHA-1 and quarantines the file.
    func stopAndQuarantineFile(
        machine: String, sha1: String, comment: String, idempotencyKey: String
    ) async throws(EDRError) -> EDRSubmission

    /// The current status of an action.
    func actionStatus(_ id: EDRActionID) async throws(EDRError) -> EDRActionStatus

    /// The vendor's machine id of a device known by its DNS name; nil when the vendor knows no such machine.
    func machineID(dnsName: String) async throws(EDRError) -> String?

    /// The newest action of `type` on `machine` and its status; nil when there is none. Used to adopt an action that
    /// the vendor reported as already running.
    func latestAction(machine: String, type: EDRActionType) async throws(EDRError) -> (id: EDRActionID, status: EDRActionStatus)?
    /// The action of `type` on `machine`, created at or after `createdSince`, whose comment contains `marker`; nil when
    /// there is none. Used to adopt the action that an earlier attempt submitted but did not live to record.
    func findAction(
        machine: String, type: EDRActionType, createdSince: Date, commentContaining marker: String
    ) async throws(EDRError) -> (id: EDRActionID, status: EDRActionStatus)?
}

/// The kinds of machine action, as Defender names them in a machine action's `type`.
public enum EDRActionType: String, Sendable, Hashable, Codable, CaseIterable {
    case isolate = "Isolate"
    case unisolate = "Unisolate"
    case stopAndQuarantineFile = "StopAndQuarantineFile"
}

/// How polling an action ended.
public enum EDRPollOutcome: Sendable, Hashable {
    /// The action reached a final status.
    case finished(EDRActionStatus)
    /// The deadline passed first; the last status seen is given.
    case deadlineReached(last: EDRActionStatus)
}

extension EDRConnector {
    /// Asks for the action's status every `interval` until it is final or `deadline` has passed.
    ///
    /// Time is injected: `now` reads the clock and `sleep` waits, so tests need not wait in real time.
    /// Transient errors (`edr_rate_limited`, `edr_unavailable`, `edr_timeout`) are retried at the next tick; others end polling.
    public func poll(
        _ id: EDRActionID,
        every interval: Duration,
        until deadline: Date,
        now: @Sendable () -> Date = { Date() },
        sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) async throws -> EDRPollOutcome {
        var last = EDRActionStatus.pending
        while true {
            do {
                last = try await actionStatus(id)
                if last.isFinal { return .finished(last) }
            } catch {
                // Transient errors: the next tick asks again. The rest end polling.
                guard error.isTransient else { throw error }
            }
            // The check follows a status call, so the tick that crosses the deadline still gets one last look.
            if now() >= deadline { return .deadlineReached(last: last) }
            try await sleep(interval)
        }
    }
}
