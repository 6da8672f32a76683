import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

/// How far a process manager is behind one tenant's log.
public struct ProcessorLag: Sendable, Equatable {
    public var processor: String
    public var tenant: TenantID
    public var head: Int64
    public var checkpoint: Int64
    public var eventsBehind: Int64 { head - checkpoint }
    /// How long the oldest event not yet processed has been in the log, in seconds (0 when caught up).
    public var secondsBehind: Double
}

extension QueryService {
    /// The tenants whose log is beyond the checkpoint of the process manager `processor`, and by how much.
    public func processorLag(_ processor: String) async throws -> [ProcessorLag] {
        let rows = try await store.database.client.query(
            """
            SELECT h.tenant_id, h.last_position, coalesce(c.position, 0),
                   coalesce(extract(epoch FROM now() - (SELECT e.recorded_at FROM events e
                        WHERE e.tenant_id = h.tenant_id AND e.position = coalesce(c.position, 0) + 1)), 0)::float8
            FROM tenant_heads h
            LEFT JOIN processor_checkpoints c ON c.tenant_id = h.tenant_id AND c.processor = \(processor)
            WHERE h.last_position > coalesce(c.position, 0)
            ORDER BY h.tenant_id
            """, logger: store.database.logger)
        var lags: [ProcessorLag] = []
        for try await (tenant, head, checkpoint, seconds) in rows.decode((String, Int64, Int64, Double).self) {
            guard let id = TenantID(rawValue: tenant) else { continue }
            lags.append(ProcessorLag(processor: processor, tenant: id, head: head, checkpoint: checkpoint, secondsBehind: max(0, seconds)))
        }
        return lags
    }
}

extension QueryService {
    /// How many events the log holds and for how many tenants.
    public func logSize() async throws -> (events: Int64, tenants: Int) {
        let rows = try await store.database.client.query(
            "SELECT coalesce(sum(last_position), 0)::int8, count(*) FROM tenant_heads", logger: store.database.logger)
        for try await (events, tenants) in rows.decode((Int64, Int64).self) { return (events, Int(tenants)) }
        return (0, 0)
    }
}
