import Foundation
import MDRApplication
import MDRDomain
import MDRReports
import OpenAPIRuntime

// MARK: - Tenant reports (docs/reports.md)

extension APIHandler {
    func getTenantMonthlyReport(_ input: Operations.GetTenantMonthlyReport.Input) async throws -> Operations.GetTenantMonthlyReport.Output {
        let (_, tenant) = try authorize(.readSecurityViews, tenant: input.path.tenantId)
        let period = try ReportPeriod.month(input.path.month)
        let html = Self.wantsHTML(input.query.format, input.headers.accept.map { ($0.contentType.rawValue, $0.quality.doubleValue) })
        return .ok(try await report(tenant, period, html: html))
    }

    func getTenantReport(_ input: Operations.GetTenantReport.Input) async throws -> Operations.GetTenantReport.Output {
        let (_, tenant) = try authorize(.readSecurityViews, tenant: input.path.tenantId)
        let period = try ReportPeriod.days(from: input.query.from, to: input.query.to)
        let html = Self.wantsHTML(input.query.format, input.headers.accept.map { ($0.contentType.rawValue, $0.quality.doubleValue) })
        return .ok(try await report(tenant, period, html: html))
    }

    /// Builds the report under the request deadline and renders it in the chosen form. The JSON goes through the
    /// generated `TenantReport` type, so a report that drifts from the OpenAPI document fails loudly (500), not
    /// silently.
    private func report(_ tenant: TenantID, _ period: ReportPeriod, html: Bool) async throws -> Components.Responses.TenantReport {
        let builder = ReportBuilder(views: services.views, queries: services.queries)
        let report = try await withinDeadline { try await builder.report(tenant: tenant, period: period, at: Date()) }
        if html {
            return .init(body: .html(HTTPBody(try ReportRenderer.html(report))))
        }
        let wire = try JSONCoding.decoder().decode(Components.Schemas.TenantReport.self, from: JSONCoding.encoder().encode(report))
        return .init(body: .json(wire))
    }

    /// HTML when `format=html`, or without `format` when the Accept header ranks `text/html` above JSON; else JSON.
    static func wantsHTML(_ format: Components.Parameters.ReportFormat?, _ accept: [(contentType: String, quality: Double)]) -> Bool {
        switch format {
        case .html: return true
        case .json: return false
        case nil:
            func quality(_ type: String) -> Double { accept.filter { $0.contentType == type }.map(\.quality).max() ?? 0 }
            return quality("text/html") > quality("application/json")
        }
    }
}
