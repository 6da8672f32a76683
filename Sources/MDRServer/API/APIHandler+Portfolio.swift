import Foundation
import MDRApplication
import MDRDomain
import MDRProjections
import OpenAPIRuntime

// MARK: - Dynamic's portfolio (`GET /v1/tenants`)

extension APIHandler {
    func listTenants(_ input: Operations.ListTenants.Input) async throws -> Operations.ListTenants.Output {
        try AccessPolicy.authorize(try RequestPrincipal.required(), .readPortfolio, tenant: nil)
        let q = input.query
        let on = try q.on.map { try CalendarDate.field("on", $0) } ?? BusinessClock.standard.localDate(of: services.commands.time.now())
        let filter = PortfolioFilter(
            phase: q.phase.map { ContractPhase(rawValue: $0.rawValue)! }, package: q.package.map(ServicePackage.init),
            endsBefore: try q.endsBefore.map { try CalendarDate.field("endsBefore", $0) },
            onboarding: q.onboarding.map { OnboardingPhase(rawValue: $0.rawValue)! })
        let cursor = try q.cursor.map { raw throws(DomainError) in
            guard let id = TenantID(rawValue: raw) else {
                throw DomainError(.invalidField, .invalid, "cursor: '\(raw.prefix(80))' is not the `next` of a page")
            }
            return id
        }
        let csv: Bool =
            switch q.format {
            case .csv: true
            case .json: false
            case nil: input.headers.accept.contains(where: { $0.contentType == .csv }) && !input.headers.accept.contains(where: { $0.contentType == .json })
            }
        let limit = csv ? Int.max : (q.limit ?? 100)
        let (queries, views) = (services.queries, services.views)
        let page = try await withinDeadline {
            try await queries.portfolio(on: on, filter: filter, after: cursor, limit: limit, openIncidents: try await views.openIncidentCounts())
        }
        if csv { return .ok(.init(body: .csv(HTTPBody(PortfolioExport.csv(page.entries))))) }
        return .ok(.init(body: .json(.init(tenants: page.entries.map(Components.Schemas.PortfolioEntry.init), next: page.next?.rawValue))))
    }
}

extension Components.Schemas.PortfolioEntry {
    init(_ e: PortfolioEntry) {
        self.init(
            tenantId: e.tenantID.rawValue, name: e.name, package: .init(rawValue: e.package.rawValue)!, sla: .init(rawValue: e.sla.rawValue)!,
            mdrStatus: .init(rawValue: e.mdrStatus.rawValue)!, onboarding: .init(rawValue: e.onboarding.rawValue)!,
            monitoringActiveSince: e.monitoringActiveSince, tuningEndsAt: e.tuningEndsAt, contractStart: e.contractStart.description,
            contractPhase: .init(rawValue: e.contractPhase.rawValue)!, initialTermEnd: e.initialTermEnd.description,
            endDate: e.endDate?.description, noticeReceivedOn: e.noticeReceivedOn?.description, workstations: e.workstations,
            servers: e.servers, openIncidents: e.openIncidents, on: e.on.description)
    }
}
