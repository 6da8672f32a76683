import Foundation
import Logging
import MDRDomain
import PostgresNIO

/// Something that follows every tenant's log through the `TenantPipeline`: a view (a `Projection`) or a process
/// manager (the correlator, the notifier's planner, the responder's planner). It has its own position in each
/// tenant's log (`consumer_checkpoints`), but it does not read the log itself: the pipeline reads a page once, decodes
/// each event once and hands every consumer the events past its position that it wants, in log order, inside one
/// transaction that also moves every consumer's position.
public protocol LogConsumer: Sendable {
    /// The position's name; stable for a running system (a new name starts from the beginning of every log).
    var name: String { get }
    /// The event types it reads; nil: every type. It is not called for others, and its position moves past them.
    var eventTypes: Set<String>? { get }
    /// Events appended as this actor are the consumer's own reactions, which it took into account when it decided
    /// them: they are not handed to it again.
    var ownActor: String? { get }

    /// Handles `events` (past its position, of its types, in log order) of `round.tenant`: writes its own rows on
    /// `round.connection`, emits events to append (`round.emit`), registers what to do after the commit. Must not
    /// commit. Throwing rolls the round back; the pipeline then goes on without this consumer and tries it again later
    /// (it is parked on the first event it fails on).
    func consume(_ events: [PipelineEvent], in round: PipelineRound) async throws

    /// Called after every round it took part in (whether or not it was handed events): committed with its new
    /// position, or rolled back (nil). `round.position(of:)` is where it began.
    func roundEnded(_ round: PipelineRound, committedAt position: Int64?)
}

extension LogConsumer {
    public var ownActor: String? { nil }
    public func roundEnded(_ round: PipelineRound, committedAt position: Int64?) {}

    func wants(_ event: PipelineEvent) -> Bool {
        wants(event.type, event.metadata.actor)
    }

    func wants(_ type: String, _ actor: String) -> Bool {
        if let types = eventTypes, !types.contains(type) { return false }
        if let own = ownActor, actor == own { return false }
        return true
    }
}

/// A read model fed by the pipeline: rows of its own tables derived from the log alone, so they can be dropped and
/// rebuilt at any time and a rebuild gives the same rows.
///
/// A retention cut asks each view to forget the streams it removes (`StreamForgetting`); a view whose rows name no
/// removable stream keeps the default, which forgets nothing.
public protocol Projection: LogConsumer, StreamForgetting {
    /// The schema version of the rows. Raise it when what `apply` writes changes: a pipeline that finds rows built with
    /// another version resets them and replays the log into them.
    var version: Int { get }
    /// Writes the rows for `events` of `tenant` (in position order, all past the position), set-based where possible,
    /// on `connection` inside the round's transaction. Rows must depend on the events alone (no clock, no random ids).
    func apply(_ events: [PipelineEvent], tenant: TenantID, on connection: PostgresConnection) async throws
    /// Removes all of the projection's rows, of all tenants (the pipeline moves the positions back to 0).
    func reset(on connection: PostgresConnection) async throws
}

extension Projection {
    public func consume(_ events: [PipelineEvent], in round: PipelineRound) async throws {
        try await apply(events, tenant: round.tenant, on: round.connection)
    }

    public func forget(streams: [StreamName], tenant: TenantID, on connection: PostgresConnection) async throws {}
}

/// An event a process manager decided, to be appended in the round that decided it. The domain form is kept, so the
/// consumers after it get the reaction in the same round without decoding it.
public struct Emission: Sendable {
    public var event: DomainEvent
    public var appended: EventToAppend

    public init(_ event: DomainEvent, appended: EventToAppend) {
        self.event = event
        self.appended = appended
    }
}

/// One round of the pipeline over one tenant: what a consumer works with while it handles its events.
///
/// Used by one task at a time (the pipeline calls its consumers one after the other).
public final class PipelineRound: @unchecked Sendable {
    public let tenant: TenantID
    /// The round's connection, inside its transaction.
    public let connection: PostgresConnection
    public let logger: Logger
    let store: EventStore
    /// Each taking part consumer's position when the round began.
    let positions: [String: Int64]
    /// The consumer being called, and what each consumer emitted.
    var current: String = ""
    var emissions: [(consumer: String, emission: Emission)] = []
    var afterCommit: [@Sendable () -> Void] = []
    /// What consumers keep for the length of the round (a process manager's state between its calls), by name.
    private var kept: [String: any Sendable] = [:]

    init(tenant: TenantID, connection: PostgresConnection, store: EventStore, positions: [String: Int64], logger: Logger) {
        self.tenant = tenant
        self.connection = connection
        self.store = store
        self.positions = positions
        self.logger = logger
    }

    /// The consumer's position when the round began (0 for a consumer not taking part).
    public func position(of consumer: String) -> Int64 { positions[consumer] ?? 0 }

    /// Appends `emissions` in this round, after every consumer has handled the page. The consumers get them in the same
    /// round when they land right after the page (no other append came between); otherwise in the next one.
    public func emit(_ emissions: [Emission]) {
        self.emissions += emissions.map { (current, $0) }
    }

    /// What `consumer` kept in this round (nil before it kept anything). Round-scoped: a round that was abandoned at its
    /// deadline cannot leave anything behind for the next one.
    public func kept<T: Sendable>(by consumer: String, as type: T.Type) -> T? { kept[consumer] as? T }

    /// Keeps `value` for `consumer` until the round ends.
    public func keep<T: Sendable>(_ value: T, for consumer: String) { kept[consumer] = value }

    /// What the consumers kept and registered so far, to go back to when the round undoes a part of its work.
    struct Saved {
        var kept: [String: any Sendable]
        var afterCommit: Int
    }

    func saved() -> Saved { Saved(kept: kept, afterCommit: afterCommit.count) }

    func restore(_ saved: Saved) {
        kept = saved.kept
        afterCommit.removeLast(afterCommit.count - saved.afterCommit)
        emissions = []
    }

    /// Runs `body` once the round has committed (e.g. to wake a worker in this process).
    public func onCommit(_ body: @escaping @Sendable () -> Void) {
        afterCommit.append(body)
    }

    /// The tenant's events after `position` up to and including `through`, of `types`, decoded: for a process manager
    /// whose state must catch up with what another instance (or an earlier process) already handled.
    public func readLog(after position: Int64, through end: Int64, types: Set<String>?, pageSize: Int = 2000) async throws -> [PipelineEvent] {
        var events: [PipelineEvent] = []
        var from = position
        let typeList = types.map { Array($0) }
        while from < end {
            let page = try await store.readLog(tenant: tenant, after: from, limit: pageSize, types: typeList, on: connection)
            for record in page where record.position <= end { events.append(PipelineEvent(record)) }
            guard page.count == pageSize, let last = page.last, last.position < end else { break }
            from = last.position
        }
        return events
    }
}
