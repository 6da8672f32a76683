import Foundation
import MDRDomain
import MDRStore

// MARK: - Device inventory (connectors and Dynamic)

extension CommandService {
    /// Enrols and offboards monitored devices, effective at `effectiveAt` (now when nil). Enrolling a device that is
    /// already monitored as the same kind records nothing, so a connector may send its full list on every sync.
    public func updateDeviceInventory(
        tenant: TenantID, enrol: [UpdateDeviceInventory.Enrolment], offboard: [UpdateDeviceInventory.Offboarding], effectiveAt: Date?,
        context: CommandContext
    ) async throws -> CommandOutcome<DeviceInventoryChange> {
        let encoder = JSONCoding.encoder()
        let fingerprint = [
            "device-inventory", String(decoding: try encoder.encode(enrol), as: UTF8.self),
            String(decoding: try encoder.encode(offboard), as: UTF8.self), effectiveAt.map(Timestamp.format) ?? "now",
        ]
        return try await execute(tenant: tenant, context: context, fingerprint: [tenant.rawValue] + fingerprint) {
            let history = try await history(tenant: tenant, [.tenant, .deviceInventory])
            guard try fold(TenantDecider.self, .tenant, tenant: tenant, in: history).state != nil else {
                throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenant)' not found: onboard it first")
            }
            let loaded = try fold(DeviceInventoryDecider.self, .deviceInventory, tenant: tenant, in: history)
            let command = UpdateDeviceInventory(
                enrol: enrol, offboard: offboard, effectiveAt: effectiveAt, by: context.principal.id, at: time.now())
            let events = try DeviceInventoryDecider.decide(command, loaded.state)
            let after = DeviceInventoryDecider.fold(events, from: loaded.state)
            return Decision(
                events: events.map { EventToAppend($0, metadata: context.metadata) },
                expectations: [.deviceInventory: .at(loaded.version)],
                result: DeviceInventoryDecider.change(command, events: events, after: after))
        }
    }
}
