import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

extension QueryService {
    /// How many events the log holds and for how many tenants.
    public func logSize() async throws -> (events: Int64, tenants: Int) {
        let rows = try await store.database.client.query(
            "SELECT coalesce(sum(last_position), 0)::int8, count(*) FROM tenant_heads", logger: store.database.logger)
        for try await (events, tenants) in rows.decode((Int64, Int64).self) { return (events, Int(tenants)) }
        return (0, 0)
    }

    /// How far the pipeline's consumers named are behind each tenant's log, and which are parked.
    public func consumerLag(_ consumers: [String], tenants: [TenantID]? = nil) async throws -> [ConsumerLag] {
        try await ConsumerLag.of(consumers, database: store.database, tenants: tenants, logger: store.database.logger)
    }
}
