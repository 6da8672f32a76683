import Foundation
import MDRApplication
import MDRDomain
import OpenAPIRuntime

// MARK: - Device inventory and billing lookups

extension APIHandler {
    func getDeviceInventory(_ input: Operations.GetDeviceInventory.Input) async throws -> Operations.GetDeviceInventory.Output {
        let (_, tenant) = try authorize(.readDeviceInventory, tenant: input.path.tenantId)
        let queries = services.queries
        guard let inventory = try await withinDeadline({ try await queries.deviceInventory(tenant) }) else {
            throw DomainError.tenantNotFound(tenant.rawValue)
        }
        return .ok(.init(body: .json(.init(tenant: tenant, inventory))))
    }

    func updateDeviceInventory(_ input: Operations.UpdateDeviceInventory.Input) async throws -> Operations.UpdateDeviceInventory.Output {
        let (principal, tenant) = try authorize(.manageDeviceInventory, tenant: input.path.tenantId)
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let enrol = try (body.enrol ?? []).enumerated().map { index, item in
            UpdateDeviceInventory.Enrolment(
                deviceID: try Self.inventoryDevice("enrol[\(index)].deviceId", item.deviceId), kind: DeviceKind(rawValue: item.kind.rawValue)!,
                name: item.name)
        }
        let offboard = try (body.offboard ?? []).enumerated().map { index, item in
            UpdateDeviceInventory.Offboarding(deviceID: try Self.inventoryDevice("offboard[\(index)].deviceId", item.deviceId), reason: item.reason)
        }
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline {
            try await commands.updateDeviceInventory(tenant: tenant, enrol: enrol, offboard: offboard, effectiveAt: body.effectiveAt, context: context)
        }
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func getTenantBilling(_ input: Operations.GetTenantBilling.Input) async throws -> Operations.GetTenantBilling.Output {
        let (_, tenant) = try authorize(.readBilling, tenant: input.path.tenantId)
        let month = try BillingMonth.parse(input.path.month)
        let queries = services.queries
        guard let line = try await withinDeadline({ try await queries.billing(tenant: tenant, month: month) }) else {
            throw DomainError.tenantNotFound(tenant.rawValue)
        }
        return .ok(.init(body: .json(.init(line))))
    }

    func getBillingExport(_ input: Operations.GetBillingExport.Input) async throws -> Operations.GetBillingExport.Output {
        try AccessPolicy.authorize(try RequestPrincipal.required(), .readBilling, tenant: nil)
        let month = try BillingMonth.parse(input.path.month)
        let queries = services.queries
        let lines = try await withinDeadline { try await queries.billing(month: month) }
        let csv: Bool =
            switch input.query.format {
            case .csv: true
            case .json: false
            case nil: input.headers.accept.contains(where: { $0.contentType == .csv }) && !input.headers.accept.contains(where: { $0.contentType == .json })
            }
        if csv {
            return .ok(.init(body: .csv(HTTPBody(BillingExport.csv(lines)))))
        }
        let billable = lines.filter { $0.status == .billable }
        return .ok(
            .init(
                body: .json(
                    .init(
                        month: month.description, lines: lines.map(Components.Schemas.BillingLine.init),
                        totals: .init(
                            tenants: lines.count, billable: billable.count, workstations: lines.reduce(0) { $0 + $1.workstations.count },
                            servers: lines.reduce(0) { $0 + $1.servers.count }, amountCents: lines.reduce(0) { $0 + ($1.amountCents ?? 0) })))))
    }

    /// A device id in a request body: refused with `invalid_field` naming where it stood.
    private static func inventoryDevice(_ field: String, _ raw: String) throws(DomainError) -> DeviceID {
        guard let id = DeviceID(rawValue: raw) else {
            throw DomainError(.invalidField, .invalid, "\(field): '\(raw.prefix(80))' is not a device id (1–200 characters without '/')")
        }
        return id
    }
}

// MARK: - Wire types

extension Components.Schemas.DeviceInventory {
    init(tenant: TenantID, _ inventory: MDRDomain.DeviceInventory) {
        self.init(
            tenantId: tenant.rawValue,
            devices: inventory.devices.values.sorted { $0.deviceID < $1.deviceID }.map { d in
                .init(
                    deviceId: d.deviceID.rawValue, kind: .init(rawValue: d.kind.rawValue)!, name: d.name, monitored: d.isMonitored,
                    periods: d.periods.map { .init(from: $0.from, until: $0.until) })
            })
    }
}

extension Components.Schemas.DeviceInventoryChange {
    init(_ c: MDRDomain.DeviceInventoryChange) {
        self.init(
            enrolled: c.enrolled.map(\.rawValue), offboarded: c.offboarded.map(\.rawValue), unchanged: c.unchanged.map(\.rawValue),
            effectiveAt: c.effectiveAt, workstations: c.workstations, servers: c.servers)
    }
}

extension Components.Schemas.BillingLine {
    init(_ l: MDRDomain.BillingLine) {
        self.init(
            month: l.month.description, tenantId: l.tenantID.rawValue, tenantName: l.tenantName, package: .init(rawValue: l.package.rawValue)!,
            mdrStatus: .init(rawValue: l.mdrStatus.rawValue)!, charge: .init(rawValue: l.charge.rawValue)!,
            status: .init(rawValue: l.status.rawValue)!, monitoredFrom: l.monitoredFrom, monitoredUntil: l.monitoredUntil,
            workstations: l.workstations.map(\.rawValue), servers: l.servers.map(\.rawValue), unitPriceCents: l.unitPriceCents,
            amountCents: l.amountCents, currency: .eur)
    }
}
