import Foundation
import Logging
import MDRApplication
import MDRDomain
import MDRStore
import PostgresNIO

/// The responder's planner: a consumer of the pipeline (position `responder`) that turns every `DeviceIsolationRequested`,
/// `DeviceReleaseRequested` and `FileQuarantineRequested` into a row of `response_actions` in the round's transaction,
/// then wakes the `Responder`, which carries the rows out. A request is planned once: the row's key is the request
/// event, and the position moves with the rows.
public struct ResponsePlanner: TenantLogProcessor {
    public struct State: Sendable {}

    public let name = Responder.name
    public let actor = Responder.actor
    public let eventTypes = Set(Responder.requestTypes)
    public var initialState: State { State() }

    let time: any TimeSource
    /// How long the responder tries before it gives up on a request (`MDR_EDR_ACTION_TIMEOUT`), from when it is planned.
    let actionTimeout: Duration
    let wakeup: Wakeup
    let logger: Logger

    public func step(_ state: inout State, _ event: PipelineEvent) throws -> [Responder.Request] {
        try Responder.Request(event).map { [$0] } ?? []
    }

    public func commit(_ requests: [Responder.Request], in round: PipelineRound) async throws {
        let now = time.now()
        let deadline = now.addingTimeInterval(actionTimeout.inSeconds)
        try await round.connection.query(
            """
            INSERT INTO response_actions (tenant_id, request_event_id, position, action, device_id, incident_id, isolation_type,
                sha1, comment, requested_at, next_attempt_at, deadline)
            SELECT \(round.tenant.rawValue), u.id, u.position, u.action, u.device, nullif(u.incident, '')::uuid, nullif(u.type, ''),
                   nullif(u.sha1, ''), u.comment, u.requested_at, \(now), \(deadline)
            FROM unnest(\(requests.map(\.eventID))::uuid[], \(requests.map(\.position))::bigint[],
                        \(requests.map(\.action.rawValue))::text[], \(requests.map(\.device.rawValue))::text[],
                        \(requests.map { $0.incident?.rawValue.uuidString ?? "" })::text[],
                        \(requests.map { $0.isolationType?.rawValue ?? "" })::text[], \(requests.map { $0.sha1 ?? "" })::text[],
                        \(requests.map(\.comment))::text[], \(requests.map(\.requestedAt))::timestamptz[])
                 AS u(id, position, action, device, incident, type, sha1, comment, requested_at)
            ON CONFLICT DO NOTHING
            """, logger: logger)
        let wakeup = self.wakeup
        round.onCommit { wakeup.wake() }
    }
}
