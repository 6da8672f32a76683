import Foundation
import MDRDomain
import MDRStore
import Synchronization

/// Runs a `TenantLogProcessor` as a consumer of the `TenantPipeline`: keeps its state per tenant in memory between
/// rounds, catches it up from the log when another instance (or an earlier process) moved its position meanwhile, and
/// keeps it only when the round commits.
public final class ProcessManager<P: TenantLogProcessor>: LogConsumer {
    public let processor: P

    private struct Folded: Sendable {
        var position: Int64
        var state: P.State
    }

    /// The committed state per tenant, at the position it folds up to. A round works on a copy kept in the round, and
    /// puts it here only when the round commits.
    private let cache = Mutex<[TenantID: Folded]>([:])

    public init(_ processor: P) {
        self.processor = processor
    }

    public var name: String { processor.name }
    public var eventTypes: Set<String>? { processor.eventTypes }
    public var ownActor: String? { processor.actor.id }

    public func consume(_ events: [PipelineEvent], in round: PipelineRound) async throws {
        let tenant = round.tenant
        let position = round.position(of: name)
        var folded: Folded
        if let inFlight = round.kept(by: name, as: Folded.self) {
            folded = inFlight
        } else {
            let cached = cache.withLock { $0[tenant] }
            if let cached, cached.position <= position {
                folded = cached
            } else {
                folded = Folded(position: 0, state: try await processor.initialState(for: tenant, in: round))
            }
            if folded.position < position {
                // Catch up with what was handled elsewhere: derive those reactions again and drop them.
                for event in try await round.readLog(after: folded.position, through: position, types: processor.eventTypes)
                where event.metadata.actor != processor.actor.id {
                    _ = try processor.step(&folded.state, event)
                }
                folded.position = position
            }
        }
        var reactions: [P.Reaction] = []
        for event in events {
            reactions += try processor.step(&folded.state, event)
            folded.position = event.position
        }
        round.keep(folded, for: name)
        if !reactions.isEmpty { try await processor.commit(reactions, in: round) }
    }

    public func roundEnded(_ round: PipelineRound, committedAt position: Int64?) {
        guard let to = position else { return }
        let tenant = round.tenant, from = round.position(of: name)
        let folded = round.kept(by: name, as: Folded.self)
        cache.withLock { cache in
            if let folded {
                cache[tenant] = Folded(position: to, state: folded.state)
            } else if let unchanged = cache[tenant], unchanged.position == from {
                // Nothing of its types (or only its own events) in the round: the state holds up to the new position.
                cache[tenant] = Folded(position: to, state: unchanged.state)
            }
        }
    }
}
