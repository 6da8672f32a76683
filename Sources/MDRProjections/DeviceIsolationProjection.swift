import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

/// The device-isolation view: every device a tenant's log names, with its current isolation state (none, pending,
/// isolated, failed, release pending, released), and the history of its isolation changes (who, when, why, which
/// incident). Tables `device_isolation_view` and `device_isolation_history_view`.
///
/// A device appears with state `none` when a signal first names it. The state follows `DeviceDecider.evolve`: a
/// release carries no incident, so it keeps the incident of the isolation it ends.
public struct DeviceIsolationProjection: Projection {
    public let name = "device-isolation"
    public let version = 1
    public let eventTypes: Set<String>? = [
        SignalIngested.eventType, DeviceIsolationRequested.eventType, DeviceIsolated.eventType, DeviceIsolationFailed.eventType,
        DeviceReleaseRequested.eventType, DeviceReleased.eventType, DeviceReleaseFailed.eventType,
    ]

    public init() {}

    /// One isolation change, as a history row.
    struct Change {
        var device: DeviceID
        var position: Int64
        var state: IsolationState
        var at: Date
        var incident: IncidentID?
        var isolationType: IsolationType?
        var note: String?
        var edrActionID: String?
        var actor: String
        var actorName: String
        /// A `DeviceIsolated`: it does not end a release requested while the isolation was pending (as `DeviceDecider`).
        var keepsPendingRelease = false
    }

    /// Maps an event to the isolation change it makes (nil for events that change no isolation state).
    static func change(_ event: DomainEvent, at recorded: RecordedEvent) -> Change? {
        let m = recorded.metadata
        func make(_ d: DeviceID, _ s: IsolationState, _ at: Date, _ i: IncidentID?, _ t: IsolationType?, _ note: String?, _ edr: String?) -> Change {
            Change(
                device: d, position: recorded.position, state: s, at: at, incident: i, isolationType: t, note: note, edrActionID: edr,
                actor: m.actor, actorName: m.actorName)
        }
        switch event {
        case .deviceIsolationRequested(let e): return make(e.deviceID, .pending, e.requestedAt, e.incidentID, e.isolationType, e.comment, nil)
        case .deviceIsolated(let e):
            var change = make(e.deviceID, .isolated, e.isolatedAt, e.incidentID, nil, nil, e.edrActionID)
            change.keepsPendingRelease = true
            return change
        case .deviceIsolationFailed(let e): return make(e.deviceID, .failed, e.failedAt, e.incidentID, nil, e.reason, e.edrActionID)
        case .deviceReleaseRequested(let e): return make(e.deviceID, .releasePending, e.requestedAt, nil, nil, e.reason, nil)
        case .deviceReleased(let e): return make(e.deviceID, .released, e.releasedAt, nil, nil, nil, e.edrActionID)
        case .deviceReleaseFailed(let e):
            // The release did not happen: the device is still isolated.
            return make(e.deviceID, .isolated, e.failedAt, nil, nil, "release failed: \(e.reason)", e.edrActionID)
        default: return nil
        }
    }

    public func apply(_ events: [PipelineEvent], tenant: TenantID, on connection: PostgresConnection) async throws {
        // Devices named by signals: first and last time a signal named them, per device of this page.
        var seen: [DeviceID: (first: Date, last: Date)] = [:]
        var changes: [Change] = []
        for piped in events {
            let recorded = piped.record
            let event = try piped.event()
            if case .signalIngested(let e) = event {
                for device in e.signal.entities.devices {
                    let known = seen[device]
                    seen[device] = (min(known?.first ?? e.receivedAt, e.receivedAt), max(known?.last ?? e.receivedAt, e.receivedAt))
                }
            } else if let change = Self.change(event, at: recorded) {
                changes.append(change)
            }
        }
        let logger = Logger.projections
        if !seen.isEmpty {
            let devices = seen.keys.sorted()
            let first = devices.map { seen[$0]!.first }
            let last = devices.map { seen[$0]!.last }
            try await connection.query(
                """
                INSERT INTO device_isolation_view AS v (tenant_id, device_id, first_seen_at, last_signal_at)
                SELECT \(tenant.rawValue), u.device, u.first, u.last
                FROM unnest(\(devices.map(\.rawValue))::text[], \(first)::timestamptz[], \(last)::timestamptz[]) AS u(device, first, last)
                ON CONFLICT (tenant_id, device_id) DO UPDATE SET
                    first_seen_at = least(v.first_seen_at, EXCLUDED.first_seen_at),
                    last_signal_at = greatest(v.last_signal_at, EXCLUDED.last_signal_at)
                """, logger: logger)
        }
        guard !changes.isEmpty else { return }

        // A release names no incident: it belongs to the device's incident as of the change before it, from this page
        // or else from the stored row (read before the row is updated below).
        var incidentOf: [DeviceID: IncidentID] = [:]
        for i in changes.indices {
            if let incident = changes[i].incident {
                incidentOf[changes[i].device] = incident
            } else {
                changes[i].incident = incidentOf[changes[i].device]
            }
        }
        try await connection.query(
            """
            INSERT INTO device_isolation_history_view
                (tenant_id, device_id, position, state, at, actor, actor_name, incident_id, isolation_type, note, edr_action_id)
            SELECT \(tenant.rawValue), u.device, u.position, u.state, u.at, u.actor, u.actor_name,
                   coalesce(nullif(u.incident, '')::uuid,
                            (SELECT v.incident_id FROM device_isolation_view v WHERE v.tenant_id = \(tenant.rawValue) AND v.device_id = u.device)),
                   nullif(u.type, ''), nullif(u.note, ''), nullif(u.edr, '')
            FROM unnest(\(changes.map(\.device.rawValue))::text[], \(changes.map(\.position))::bigint[], \(changes.map(\.state.rawValue))::text[],
                        \(changes.map(\.at))::timestamptz[], \(changes.map(\.actor))::text[], \(changes.map(\.actorName))::text[],
                        \(changes.map { $0.incident?.rawValue.uuidString ?? "" })::text[], \(changes.map { $0.isolationType?.rawValue ?? "" })::text[],
                        \(changes.map { $0.note ?? "" })::text[], \(changes.map { $0.edrActionID ?? "" })::text[])
                 AS u(device, position, state, at, actor, actor_name, incident, type, note, edr)
            """, logger: logger)

        // The current state: the last change of each device on this page.
        var last: [DeviceID: Change] = [:]
        var isolationType: [DeviceID: IsolationType] = [:]
        for change in changes {
            if change.keepsPendingRelease, let previous = last[change.device], previous.state == .releasePending {
                continue
            }
            last[change.device] = change
            if let t = change.isolationType { isolationType[change.device] = t }
        }
        let current = last.values.sorted { $0.device < $1.device }
        // A `DeviceIsolated` keeps a stored `release_pending` (a release requested while the isolation was pending).
        for keeps in [false, true] {
            let rows = current.filter { $0.keepsPendingRelease == keeps }
            guard !rows.isEmpty else { continue }
            try await connection.query(
                """
                INSERT INTO device_isolation_view AS v
                    (tenant_id, device_id, state, incident_id, isolation_type, changed_at, changed_by, first_seen_at)
                SELECT \(tenant.rawValue), u.device, u.state, nullif(u.incident, '')::uuid, nullif(u.type, ''), u.at, u.actor, u.at
                FROM unnest(\(rows.map(\.device.rawValue))::text[], \(rows.map(\.state.rawValue))::text[],
                            \(rows.map { $0.incident?.rawValue.uuidString ?? "" })::text[],
                            \(rows.map { isolationType[$0.device]?.rawValue ?? "" })::text[], \(rows.map(\.at))::timestamptz[],
                            \(rows.map(\.actor))::text[])
                     AS u(device, state, incident, type, at, actor)
                ON CONFLICT (tenant_id, device_id) DO UPDATE SET
                    state = CASE WHEN \(keeps) AND v.state = 'release_pending' THEN v.state ELSE EXCLUDED.state END,
                    incident_id = coalesce(EXCLUDED.incident_id, v.incident_id),
                    isolation_type = coalesce(EXCLUDED.isolation_type, v.isolation_type),
                    changed_at = CASE WHEN \(keeps) AND v.state = 'release_pending' THEN v.changed_at ELSE EXCLUDED.changed_at END,
                    changed_by = CASE WHEN \(keeps) AND v.state = 'release_pending' THEN v.changed_by ELSE EXCLUDED.changed_by END
                """, logger: logger)
        }
    }

    public func reset(on connection: PostgresConnection) async throws {
        try await connection.query("TRUNCATE device_isolation_view, device_isolation_history_view", logger: Logger.projections)
    }
}
