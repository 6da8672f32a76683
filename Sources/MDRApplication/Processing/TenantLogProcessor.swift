import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

/// A process manager over each tenant's log: it folds the log into a state of its own and reacts to events past
/// its checkpoint with new events. Its state must follow from the log alone: `react` and `evolve` are pure, so the
/// runner can derive past reactions again instead of reading them (see `ProcessorRunner`). The runner (`ProcessorRunner`) appends the reactions and moves the checkpoint in
/// one transaction, so each event is reacted to once; reactions carry ids derived from their cause, so even a
/// replay cannot append them twice.
///
/// Reactions are events by default. A processor whose effect is not an event (the notifier writes outbox entries)
/// names its own `Reaction` type and writes it in `commit`, on the runner's transaction: the effect and the checkpoint
/// still commit together.
public protocol TenantLogProcessor: Sendable {
    associatedtype State: Sendable
    associatedtype Reaction: Sendable = EventToAppend

    /// The checkpoint's name; never change it for a running system (it would react to the whole log again).
    var name: String { get }
    /// Who the processor's reactions are appended as. The runner recognises its own events by this actor.
    var actor: Principal { get }
    /// The event types the processor folds or reacts to; others are skipped when reading.
    var eventTypes: [String] { get }
    var initialState: State { get }

    /// Folds an event of the log into the state.
    func evolve(_ state: State, _ event: RecordedEvent) throws -> State
    /// Folds an event of the log into the state in place. The runner folds through this one: a processor whose state
    /// grows with the log (the correlator's) implements it to avoid copying the state per event.
    func evolve(_ state: inout State, _ event: RecordedEvent) throws
    /// The reaction to an event past the checkpoint, decided on the state before the event.
    func react(to event: RecordedEvent, in state: State) throws -> [Reaction]
    /// Reacts to an event on the state before it, then folds the event and the reaction in: what the runner does per
    /// event. The default calls `react` and `evolve`, reading each reaction back as the event it will be; a processor
    /// may implement it to decode the event once and fold its own decisions without encoding and decoding them.
    func step(_ state: inout State, _ event: RecordedEvent) throws -> [Reaction]
    /// Writes one round's reactions on the runner's transaction, before it moves the checkpoint. Returns the log
    /// position of the last event appended, if any (the runner then wakes local subscribers after the commit).
    func commit(_ reactions: [Reaction], tenant: TenantID, store: EventStore, on connection: PostgresConnection) async throws -> Int64?
    /// Called after a round that wrote reactions has committed (e.g. to wake a worker in this process).
    func didCommit(tenant: TenantID)
}

extension TenantLogProcessor {
    public func didCommit(tenant: TenantID) {}

    public func evolve(_ state: inout State, _ event: RecordedEvent) throws {
        state = try evolve(state, event)
    }
}

extension TenantLogProcessor where Reaction == EventToAppend {
    /// Appends the reactions.
    public func commit(_ reactions: [EventToAppend], tenant: TenantID, store: EventStore, on connection: PostgresConnection) async throws -> Int64? {
        try await store.append(tenant: tenant, events: reactions, expectations: [:], command: nil, on: connection).lastPosition
    }

    public func step(_ state: inout State, _ event: RecordedEvent) throws -> [EventToAppend] {
        let reaction = try react(to: event, in: state)
        try evolve(&state, event)
        for appended in reaction {
            // An appended-but-uncommitted reaction, seen as the event it will be.
            let pending = RecordedEvent(
                tenant: event.tenant, position: 0, stream: appended.stream, version: 0, eventID: appended.eventID, type: appended.type,
                schemaVersion: appended.schemaVersion, data: appended.data, metadata: appended.metadata, recordedAt: Date(), hash: Data())
            try evolve(&state, pending)
        }
        return reaction
    }
}
