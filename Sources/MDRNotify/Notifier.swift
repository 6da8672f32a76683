import Foundation
import Logging
import MDRApplication
import MDRDomain
import MDRStore
import PostgresNIO

/// What the notifier does with one event: outbox entries to insert, or an acknowledgement to mark.
public enum NotifierReaction: Sendable, Hashable {
    case enqueue(OutboxEntry)
    case acknowledge(notificationID: String, by: String, at: Date)
}

/// The notifier's view of a tenant: the contacts and routes notifications go to.
public struct NotifierState: Sendable {
    public var tenant: Tenant?
    public init() {}
}

/// The notifier: follows each tenant's log (a consumer of the pipeline, position `notifier`) and writes one outbox
/// entry per route for every notified fact — confirmed P1/P2 incidents, isolation and quarantine steps, SLA breaches — and a fallback
/// notice to Dynamic for every notification that failed for good. The entries are inserted in the transaction that
/// moves the checkpoint, with ids derived from the cause, so each fact is planned exactly once.
///
/// A fact older than `staleAfter` when the notifier first sees it (the notifier was just deployed on an existing log,
/// or was stopped for a day) is not notified: it would be news to no one, and a flood of old alarms hides new ones.
public struct Notifier: TenantLogProcessor {
    public typealias Reaction = NotifierReaction

    public let name = "notifier"
    public let actor = Principal.system("notifier")
    public let eventTypes: Set<String> = [
        TenantOnboarded.eventType, ContactsUpdated.eventType, IncidentConfirmed.eventType, DeviceIsolationRequested.eventType,
        DeviceIsolated.eventType, DeviceIsolationFailed.eventType, DeviceReleaseRequested.eventType, DeviceReleased.eventType, DeviceReleaseFailed.eventType,
        SlaBreached.eventType, FileQuarantineRequested.eventType, FileQuarantined.eventType, FileQuarantineFailed.eventType,
        NotificationAttemptFailed.eventType, NotificationFailed.eventType, NotificationAcknowledged.eventType,
    ]
    public var initialState: NotifierState { NotifierState() }

    public let planner: NotificationPlanner
    public let outbox: NotificationOutbox
    /// Woken after entries are committed, so a worker in this process starts at once.
    public let wake: Wakeup
    public let time: any TimeSource
    public let staleAfter: TimeInterval

    public init(planner: NotificationPlanner, outbox: NotificationOutbox, wake: Wakeup, time: any TimeSource, staleAfter: TimeInterval = 86_400) {
        self.planner = planner
        self.outbox = outbox
        self.wake = wake
        self.time = time
        self.staleAfter = staleAfter
    }

    public func step(_ state: inout NotifierState, _ event: PipelineEvent) throws -> [NotifierReaction] {
        let decoded = try event.event()
        let reactions = reactions(to: event, decoded, in: state)
        Self.apply(decoded, to: &state)
        return reactions
    }

    public func commit(_ reactions: [NotifierReaction], in round: PipelineRound) async throws {
        let tenant = round.tenant, connection = round.connection
        var entries: [OutboxEntry] = []
        for reaction in reactions {
            switch reaction {
            case .enqueue(let entry): entries.append(entry)
            case .acknowledge(let id, let by, let at):
                // Entries of this round first: an acknowledgement may follow its notification within one page.
                try await outbox.insert(entries, on: connection)
                entries.removeAll()
                try await outbox.acknowledge(id, tenant: tenant, by: by, at: at, on: connection)
            }
        }
        try await outbox.insert(entries, on: connection)
        let wake = self.wake
        round.onCommit { wake.wake() }
    }

    static func apply(_ event: DomainEvent, to state: inout NotifierState) {
        if case .tenantOnboarded(let e) = event { state.tenant = e.tenant }
        // New contacts take effect for the notifications planned after them.
        if case .contactsUpdated = event { state.tenant = TenantDecider.evolve(state.tenant, event) }
    }

    func reactions(to event: PipelineEvent, _ decoded: DomainEvent, in state: NotifierState) -> [NotifierReaction] {
        let cause = NotificationCause(eventID: event.eventID, position: event.position)
        if case .notificationAcknowledged(let e) = decoded {
            return [.acknowledge(notificationID: e.notificationID, by: e.acknowledgedBy, at: e.acknowledgedAt)]
        }
        if case .notificationFailed(let e) = decoded {
            guard isFresh(e.failedAt) else { return [] }
            return planner.fallback(for: e, tenant: event.tenant, cause: cause).map(NotifierReaction.enqueue)
        }
        if case .notificationAttemptFailed(let e) = decoded, e.late == true {
            guard isFresh(e.attemptedAt) else { return [] }
            return planner.delayed(for: e, tenant: event.tenant, cause: cause).map(NotifierReaction.enqueue)
        }
        guard let tenant = state.tenant, let (subject, at) = Self.subject(decoded), isFresh(at) else { return [] }
        return planner.entries(for: subject, occurredAt: at, tenant: tenant, cause: cause).map(NotifierReaction.enqueue)
    }

    /// Whether a fact that happened at `at` is still news (the clock is the one commands use, so tests control it).
    func isFresh(_ at: Date) -> Bool {
        time.now().timeIntervalSince(at) <= staleAfter
    }

    /// The notified fact an event is, and when it happened.
    static func subject(_ event: DomainEvent) -> (NotificationSubject, Date)? {
        switch event {
        case .incidentConfirmed(let e): (.incidentConfirmed(e.incidentID, e.priority), e.confirmedAt)
        case .deviceIsolationRequested(let e): (.isolation(e.deviceID, .requested), e.requestedAt)
        case .deviceIsolated(let e): (.isolation(e.deviceID, .succeeded), e.isolatedAt)
        case .deviceIsolationFailed(let e): (.isolation(e.deviceID, .failed), e.failedAt)
        case .deviceReleaseRequested(let e): (.isolation(e.deviceID, .releaseRequested), e.requestedAt)
        case .deviceReleased(let e): (.isolation(e.deviceID, .released), e.releasedAt)
        case .deviceReleaseFailed(let e): (.isolation(e.deviceID, .releaseFailed), e.failedAt)
        case .slaBreached(let e): (.slaBreached(e.incidentID, e.target, e.priority), e.breachedAt)
        case .fileQuarantineRequested(let e): (.fileQuarantine(e.deviceID, e.incidentID, .requested), e.requestedAt)
        case .fileQuarantined(let e): (.fileQuarantine(e.deviceID, e.incidentID, .succeeded), e.quarantinedAt)
        case .fileQuarantineFailed(let e): (.fileQuarantine(e.deviceID, e.incidentID, .failed), e.failedAt)
        default: nil
        }
    }
}
