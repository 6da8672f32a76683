import Foundation
import Logging
import MDRDomain
import MDRStore
import PostgresNIO

/// Reads the projections' rows for the API and the command line. Every read is scoped by tenant, or names the
/// tenants it may see; the caller decides what a principal may read.
public struct ReadModels: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database) {
        self.database = database
        self.logger = database.logger
    }

    /// The projections the service runs, in order: the views the API reads.
    public static func standard() -> [any Projection] {
        [DeviceIsolationProjection(), SignalStatisticsProjection(), IncidentsProjection(), SlaTimerProjection()]
    }

    /// How far each standard projection is behind each tenant's log; `tenants` limits the answer (nil: all).
    public func lag(tenants: [TenantID]? = nil, projections: [String] = ReadModels.standard().map(\.name)) async throws -> [ConsumerLag] {
        try await ConsumerLag.of(projections, database: database, tenants: tenants, logger: logger)
    }
}
