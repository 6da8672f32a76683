import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import MDRStore

/// Reads a report's facts from the views and the tenant's stream, and assembles the report: the edge around the
/// pure `ReportAssembler`. The views lag the log by the projections' lag (`mdr projections lag`).
public struct ReportBuilder: Sendable {
    let views: ReadModels
    let queries: QueryService

    public init(views: ReadModels, queries: QueryService) {
        self.views = views
        self.queries = queries
    }

    public init(database: Database) {
        self.init(views: ReadModels(database: database), queries: QueryService(store: EventStore(database: database)))
    }

    /// The report of `tenant` for `period`, made at `now`; `tenant_not_found` when the tenant was never onboarded.
    public func report(tenant id: TenantID, period: ReportPeriod, at now: Date) async throws -> TenantReport {
        ReportAssembler.report(try await facts(tenant: id, period: period), at: now)
    }

    /// The facts of `tenant` for `period`, read from the views and the tenant's stream.
    public func facts(tenant id: TenantID, period: ReportPeriod) async throws -> ReportFacts {
        guard let tenant = try await queries.tenant(id) else { throw DomainError(.tenantNotFound, .notFound, "tenant '\(id)' not found") }
        let (start, end) = period.instants
        return ReportFacts(
            tenant: .init(id: tenant.id, name: tenant.name, package: tenant.package, sla: tenant.sla), period: period,
            signals: try await views.signalStatisticsBySeverity(tenant: id, from: period.from, to: period.to),
            correlated: try await views.correlatedSignals(tenant: id, from: start, to: end),
            incidents: try await views.incidentsActive(tenant: id, from: start, to: end),
            isolations: try await views.deviceIsolationEvents(tenant: id, from: start, to: end),
            slaTimers: try await views.slaTimers(tenant: id, startedFrom: start, to: end).map(\.timer),
            healthChecks: tenant.onboardingProgress.healthChecks,
            filtered: try await queries.store.filteredSignals(tenant: id, from: period.from, to: period.to))
    }
}
