import Foundation
import MDRDomain
import MDRStore

/// A process manager over each tenant's log: it folds the log into a state of its own and reacts to events past its
/// position (new events to append, outbox entries, work for a worker). Run by the `TenantPipeline` through a
/// `ProcessManager`, which keeps its state per tenant between rounds.
///
/// Its state must follow from the log alone: `step` is pure, so the state can be rebuilt by stepping through the log
/// again (reactions to events already handled are derived again and dropped). A processor's own events (appended as
/// its `actor`) are not handed to it: it folded them into its state when it decided them, at the position of their
/// cause — a reaction commits after events that arrived meanwhile, and those must still be decided on a state that
/// includes it. Reactions carry ids derived from their cause, so even a replay cannot append them twice.
public protocol TenantLogProcessor: Sendable {
    associatedtype State: Sendable
    associatedtype Reaction: Sendable

    /// The position's name; never change it for a running system (it would react to the whole log again).
    var name: String { get }
    /// Who the processor's reactions are appended as; its own events are not handed back to it.
    var actor: Principal { get }
    /// The event types the processor folds or reacts to.
    var eventTypes: Set<String> { get }
    var initialState: State { get }
    /// The state to fold `tenant`'s log from, when a round starts without one (a new process, or after another
    /// instance moved the position): `initialState`, unless the processor needs something of the tenant first.
    func initialState(for tenant: TenantID, in round: PipelineRound) async throws -> State

    /// Reacts to an event on the state before it, then folds the event (and its own reaction) into the state.
    func step(_ state: inout State, _ event: PipelineEvent) throws -> [Reaction]
    /// Writes one round's reactions in the round: events with `round.emit`, rows on `round.connection`, a wake-up with
    /// `round.onCommit`. They commit with the processor's new position, or not at all.
    func commit(_ reactions: [Reaction], in round: PipelineRound) async throws
}

extension TenantLogProcessor {
    public func initialState(for tenant: TenantID, in round: PipelineRound) async throws -> State { initialState }
}

extension TenantLogProcessor where Reaction == Emission {
    /// Emits the reactions: appended at the end of the round, and handed to the consumers after it.
    public func commit(_ reactions: [Emission], in round: PipelineRound) async throws {
        round.emit(reactions)
    }
}
