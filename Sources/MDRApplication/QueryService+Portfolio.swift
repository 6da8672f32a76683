import Foundation
import MDRDomain
import MDRStore

// MARK: - Dynamic's portfolio of customers

/// A page of the portfolio, by tenant id, and where the next one starts (nil on the last).
public struct PortfolioPage: Sendable, Equatable {
    public var entries: [PortfolioEntry]
    public var next: TenantID?
}

extension QueryService {
    /// The tenants after `cursor` (by id) that match `filter`, as of `date`, at most `limit`. Made from each tenant's
    /// own streams, as billing is (a portfolio of hundreds of tenants is hundreds of short reads; a view is the next step
    /// if it grows to thousands). `openIncidents` comes from the incidents view.
    public func portfolio(
        on date: CalendarDate, filter: PortfolioFilter = .init(), after cursor: TenantID? = nil, limit: Int = .max,
        openIncidents: [TenantID: Int] = [:]
    ) async throws -> PortfolioPage {
        var entries: [PortfolioEntry] = []
        for tenant in try await store.tenants() where cursor.map({ tenant.rawValue > $0.rawValue }) ?? true {
            guard let (state, inventory) = try await tenantAndInventory(tenant) else { continue }
            let entry = PortfolioEntry(tenant: state, inventory: inventory, openIncidents: openIncidents[tenant] ?? 0, on: date)
            guard filter.matches(entry) else { continue }
            if entries.count == limit { return PortfolioPage(entries: entries, next: entries.last?.tenantID) }
            entries.append(entry)
        }
        return PortfolioPage(entries: entries, next: nil)
    }
}
