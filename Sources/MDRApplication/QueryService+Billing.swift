import Foundation
import MDRDomain
import MDRStore

// MARK: - Device inventory and billing lookups

extension QueryService {
    /// The tenant's device inventory (every device ever enrolled, with its monitoring periods); nil when the tenant
    /// does not exist.
    public func deviceInventory(_ tenant: TenantID) async throws -> DeviceInventory? {
        try await tenantAndInventory(tenant)?.inventory
    }

    /// The tenant's billing line for `month`; nil when the tenant does not exist.
    ///
    /// Computed from the tenant's own streams on every call rather than kept in a view: the inventory stream is short
    /// (one event per enrolment or offboarding), the figure is wanted a few times a month, and a line recomputed
    /// from the log can never disagree with it.
    public func billing(tenant: TenantID, month: BillingMonth) async throws -> BillingLine? {
        guard let (state, inventory) = try await tenantAndInventory(tenant) else { return nil }
        return Billing.line(tenant: state, inventory: inventory, month: month)
    }

    /// Every tenant's billing line for `month`, by tenant id: Dynamic's monthly export.
    public func billing(month: BillingMonth) async throws -> [BillingLine] {
        var lines: [BillingLine] = []
        for tenant in try await store.tenants() {
            if let line = try await billing(tenant: tenant, month: month) { lines.append(line) }
        }
        return lines
    }

    func tenantAndInventory(_ tenant: TenantID) async throws -> (tenant: Tenant, inventory: DeviceInventory)? {
        let history = try await store.readStreams(tenant: tenant, [.tenant, .deviceInventory])
        guard let state = TenantDecider.fold(try (history[.tenant] ?? []).map { try $0.decoded() }) else { return nil }
        let inventory = DeviceInventoryDecider.fold(try (history[.deviceInventory] ?? []).map { try $0.decoded() })
        return (state, inventory)
    }
}
