import Foundation
import MDRDomain
import MDRStore

/// Reads aggregates straight from their streams (the foundation's reads; list views come from projections).
public struct QueryService: Sendable {
    public let store: EventStore

    public init(store: EventStore) {
        self.store = store
    }

    public func tenant(_ id: TenantID) async throws -> Tenant? {
        TenantDecider.fold(try await store.readStream(tenant: id, .tenant).map { try $0.decoded() })
    }

    /// An incident with its timeline (every event of its stream).
    public func incident(tenant: TenantID, _ id: IncidentID) async throws -> (Incident, [RecordedEvent])? {
        let events = try await store.readStream(tenant: tenant, .incident(id))
        guard let incident = IncidentDecider.fold(try events.map { try $0.decoded() }) else { return nil }
        return (incident, events)
    }

    /// A device's isolation state and history; `none` for a device never isolated.
    public func device(tenant: TenantID, _ id: DeviceID) async throws -> DeviceIsolation {
        let events = try await store.readStream(tenant: tenant, .device(id))
        return DeviceDecider.fold(try events.map { try $0.decoded() }).device ?? DeviceIsolation(deviceID: id)
    }

    /// The tenant's suppression rules, active and expired, newest first; nil when the tenant does not exist.
    public func suppressionRules(_ tenant: TenantID) async throws -> [SuppressionRule]? {
        let history = try await store.readStreams(tenant: tenant, [.tenant, .suppressionRules])
        guard TenantDecider.fold(try (history[.tenant] ?? []).map { try $0.decoded() }) != nil else { return nil }
        let state = SuppressionDecider.fold(try (history[.suppressionRules] ?? []).map { try $0.decoded() })
        return state.rules.reversed()
    }

    /// A page of the tenant's raw event log, after a position.
    public func events(tenant: TenantID, after position: Int64, limit: Int) async throws -> [RecordedEvent] {
        try await store.readLog(tenant: tenant, after: position, limit: limit)
    }
}
