import Foundation
import MDRDomain
import Synchronization

/// An event of a tenant's log as the pipeline hands it to its consumers: the stored record and its domain event,
/// decoded once for all of them. A record this build cannot decode (a type or schema version it does not know) is
/// handed over all the same: a consumer that wants its type fails on `event()` and is parked, the others go on.
public struct PipelineEvent: Sendable {
    public let record: RecordedEvent
    private let decoded: Result<DomainEvent, any Error>

    /// Decodes `record` (once).
    public init(_ record: RecordedEvent) {
        self.record = record
        decoded = Result { try record.decoded() }
    }

    /// An event whose domain form is already known (a reaction appended in the same round, not read back).
    public init(_ record: RecordedEvent, event: DomainEvent) {
        self.record = record
        decoded = .success(event)
    }

    /// The domain event; throws when this build cannot decode the record.
    public func event() throws -> DomainEvent { try decoded.get() }

    public var position: Int64 { record.position }
    public var type: String { record.type }
    public var stream: StreamName { record.stream }
    public var eventID: UUID { record.eventID }
    public var metadata: EventMetadata { record.metadata }
    public var recordedAt: Date { record.recordedAt }
    public var tenant: TenantID { record.tenant }
}

/// Counts the stored events decoded by the tasks that run inside `count(_:)` (and their child tasks): how a test
/// shows that the pipeline decodes each event once whatever the number of its consumers, and how `ops/bench`
/// reports decodes per event.
public final class EventDecodeCounter: Sendable {
    @TaskLocal static var active: [EventDecodeCounter] = []
    private let decodes = Atomic<Int>(0)

    public init() {}

    /// Decodes counted so far.
    public var count: Int { decodes.load(ordering: .relaxed) }

    /// Runs `body` with its decodes counted here.
    public func count<T>(_ body: () async throws -> T) async rethrows -> T {
        try await Self.$active.withValue(Self.active + [self]) { try await body() }
    }

    static func countOne() {
        for counter in active { counter.decodes.add(1, ordering: .relaxed) }
    }
}
