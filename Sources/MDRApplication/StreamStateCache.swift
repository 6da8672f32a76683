import Foundation
import MDRDomain
import MDRStore
import Synchronization

/// The folded state of the streams that many commands of a tenant read and that only grow — the tenant itself and its
/// suppression rules — kept per instance with the version it folds up to. A command reads only the events after that
/// version (one index range, usually empty) and folds them in, instead of reading and decoding the whole stream on
/// every ingest. Always current: what another instance appended is read like anything else; the append's expected
/// versions guard the decision as before.
public final class StreamStateCache: Sendable {
    /// The streams kept.
    public static let streams: Set<StreamName> = [.tenant, .suppressionRules]

    struct Key: Hashable {
        var tenant: TenantID
        var stream: StreamName
    }

    /// A state and the version it folds up to.
    struct Entry: @unchecked Sendable {
        var version: Int64
        /// Only the decider's own `State` (Sendable) is stored under its stream.
        var state: Any
    }

    private let entries = Mutex<[Key: Entry]>([:])

    public init() {}

    func entry(_ tenant: TenantID, _ stream: StreamName) -> Entry? {
        entries.withLock { $0[Key(tenant: tenant, stream: stream)] }
    }

    func store(_ entry: Entry, _ tenant: TenantID, _ stream: StreamName) {
        entries.withLock { entries in
            let key = Key(tenant: tenant, stream: stream)
            // Never move back: a slower command may bring an older fold.
            if let known = entries[key], known.version >= entry.version { return }
            entries[key] = entry
        }
    }
}

extension CommandService {
    /// Streams read for one decision: for the cached streams, the events after the version held in memory and that
    /// fold; for the others, every event.
    struct History {
        var events: [StreamName: [RecordedEvent]]
        var bases: [StreamName: StreamStateCache.Entry]
    }

    /// Reads `streams` of `tenant` in one query (the cached ones only past their cached version).
    func history(tenant: TenantID, _ streams: [StreamName]) async throws -> History {
        var bases: [StreamName: StreamStateCache.Entry] = [:]
        for stream in streams where StreamStateCache.streams.contains(stream) {
            if let entry = states.entry(tenant, stream) { bases[stream] = entry }
        }
        let events = try await store.readStreams(tenant: tenant, streams, after: bases.mapValues(\.version))
        return History(events: events, bases: bases)
    }

    /// The state of `stream` in `history`, folded with `D`; a cached stream's fold is kept for the next command.
    func fold<D: Decider>(_ decider: D.Type, _ stream: StreamName, tenant: TenantID, in history: History) throws -> Loaded<D.State>
    where D.Event == DomainEvent {
        let events = history.events[stream] ?? []
        guard StreamStateCache.streams.contains(stream) else { return try Self.fold(D.self, events) }
        let base = history.bases[stream]
        var state = (base?.state as? D.State) ?? D.initialState
        for event in events { state = D.evolve(state, try event.decoded()) }
        let version = events.last?.version ?? base?.version ?? 0
        if version > 0 { states.store(.init(version: version, state: state), tenant, stream) }
        return Loaded(state: state, version: version)
    }
}
