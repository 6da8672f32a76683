import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

/// A device's current isolation state (`device_isolation_view`).
public struct DeviceIsolationRow: Sendable, Equatable, Codable {
    public var deviceID: DeviceID
    public var state: IsolationState
    /// The incident of the current or last isolation.
    public var incidentID: IncidentID?
    public var isolationType: IsolationType?
    /// When the state last changed, and by whom (nil while the state is `none`).
    public var changedAt: Date?
    public var changedBy: String?
    /// When a signal or an isolation event first named the device.
    public var firstSeenAt: Date
    /// When a signal last named the device.
    public var lastSignalAt: Date?
}

/// One isolation change of a device (`device_isolation_history_view`).
public struct DeviceIsolationChange: Sendable, Equatable, Codable {
    /// The event's position in the tenant's log.
    public var position: Int64
    public var state: IsolationState
    public var at: Date
    /// The principal id that caused it, and its readable name.
    public var actor: String
    public var actorName: String
    public var incidentID: IncidentID?
    public var isolationType: IsolationType?
    /// The analyst's comment or reason, or the EDR's failure reason.
    public var note: String?
    public var edrActionID: String?
}

extension ReadModels {
    /// The tenant's devices with their isolation state, by device id; `state` filters.
    public func devices(tenant: TenantID, state: IsolationState? = nil) async throws -> [DeviceIsolationRow] {
        let rows = try await database.client.query(
            """
            SELECT device_id, state, incident_id, isolation_type, changed_at, changed_by, first_seen_at, last_signal_at
            FROM device_isolation_view
            WHERE tenant_id = \(tenant.rawValue) AND (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
            ORDER BY device_id
            """, logger: logger)
        var out: [DeviceIsolationRow] = []
        for try await (device, state, incident, type, changedAt, changedBy, firstSeen, lastSignal) in rows.decode(
            (String, String, UUID?, String?, Date?, String?, Date, Date?).self)
        {
            guard let id = DeviceID(rawValue: device) else { continue }
            out.append(
                DeviceIsolationRow(
                    deviceID: id, state: IsolationState(rawValue: state) ?? .none, incidentID: incident.map(IncidentID.init(rawValue:)),
                    isolationType: type.flatMap(IsolationType.init(rawValue:)), changedAt: changedAt, changedBy: changedBy,
                    firstSeenAt: firstSeen, lastSignalAt: lastSignal))
        }
        return out
    }

    /// One device's current state, or nil when the tenant's log never named it.
    public func device(tenant: TenantID, device: DeviceID) async throws -> DeviceIsolationRow? {
        try await devices(tenant: tenant).first { $0.deviceID == device }
    }

    /// A device's isolation changes in log order (empty when it was never isolated).
    public func deviceHistory(tenant: TenantID, device: DeviceID) async throws -> [DeviceIsolationChange] {
        let rows = try await database.client.query(
            """
            SELECT position, state, at, actor, actor_name, incident_id, isolation_type, note, edr_action_id
            FROM device_isolation_history_view
            WHERE tenant_id = \(tenant.rawValue) AND device_id = \(device.rawValue)
            ORDER BY position
            """, logger: logger)
        var out: [DeviceIsolationChange] = []
        for try await (position, state, at, actor, actorName, incident, type, note, edr) in rows.decode(
            (Int64, String, Date, String, String, UUID?, String?, String?, String?).self)
        {
            out.append(
                DeviceIsolationChange(
                    position: position, state: IsolationState(rawValue: state) ?? .none, at: at, actor: actor, actorName: actorName,
                    incidentID: incident.map(IncidentID.init(rawValue:)), isolationType: type.flatMap(IsolationType.init(rawValue:)),
                    note: note, edrActionID: edr))
        }
        return out
    }
}
