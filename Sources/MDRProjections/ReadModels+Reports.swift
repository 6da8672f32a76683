import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

/// One isolation change of one of a tenant's devices, for a report (`device_isolation_history_view`).
public struct DeviceIsolationEvent: Sendable, Equatable, Codable {
    public var deviceID: DeviceID
    public var state: IsolationState
    public var at: Date
    public var incidentID: IncidentID?

    public init(deviceID: DeviceID, state: IsolationState, at: Date, incidentID: IncidentID? = nil) {
        self.deviceID = deviceID
        self.state = state
        self.at = at
        self.incidentID = incidentID
    }
}

extension ReadModels {
    /// The tenant's incidents that were opened, confirmed, dismissed or resolved in `[from, to)`: everything a report
    /// of that period counts, whatever happened to them before or since.
    public func incidentsActive(tenant: TenantID, from: Date, to: Date) async throws -> [IncidentSummary] {
        let rows = try await database.client.query(
            """
            SELECT \(unescaped: Self.incidentColumns) FROM incident_view
            WHERE tenant_id = \(tenant.rawValue) AND opened_at < \(to)
              AND (opened_at >= \(from) OR (confirmed_at >= \(from) AND confirmed_at < \(to)) OR (closed_at >= \(from) AND closed_at < \(to)))
            ORDER BY opened_at, incident_id
            """, logger: logger)
        var out: [IncidentSummary] = []
        for try await row in rows { out.append(try Self.decodeIncident(row).0) }
        return out
    }

    /// How many of the tenant's signals received in `[from, to)` were correlated into an incident, per source.
    public func correlatedSignals(tenant: TenantID, from: Date, to: Date) async throws -> [SignalSource: Int] {
        let rows = try await database.client.query(
            """
            SELECT g.source, count(DISTINCT g.signal_id) FROM signal_view g
            WHERE g.tenant_id = \(tenant.rawValue) AND g.received_at >= \(from) AND g.received_at < \(to)
              AND EXISTS (SELECT 1 FROM incident_signal_view s WHERE s.tenant_id = g.tenant_id AND s.signal_id = g.signal_id)
            GROUP BY g.source
            """, logger: logger)
        var out: [SignalSource: Int] = [:]
        for try await (source, count) in rows.decode((String, Int64).self) {
            if let source = SignalSource(rawValue: source) { out[source] = Int(count) }
        }
        return out
    }

    /// The isolation changes of all the tenant's devices in `[from, to)`, in log order.
    public func deviceIsolationEvents(tenant: TenantID, from: Date, to: Date) async throws -> [DeviceIsolationEvent] {
        let rows = try await database.client.query(
            """
            SELECT device_id, state, at, incident_id FROM device_isolation_history_view
            WHERE tenant_id = \(tenant.rawValue) AND at >= \(from) AND at < \(to)
            ORDER BY position
            """, logger: logger)
        var out: [DeviceIsolationEvent] = []
        for try await (device, state, at, incident) in rows.decode((String, String, Date, UUID?).self) {
            guard let id = DeviceID(rawValue: device), let state = IsolationState(rawValue: state) else { continue }
            out.append(DeviceIsolationEvent(deviceID: id, state: state, at: at, incidentID: incident.map(IncidentID.init(rawValue:))))
        }
        return out
    }
}
