import Foundation
import MDRDomain
import MDRStore

extension CommandService {
    /// Requests that the EDR stop every process running the file with this SHA-1 on the device and quarantine the file
    /// (the ransomware case). Refused unless a confirmed incident of the tenant involves the device and the tenant's
    /// consent is on file; the responder carries it out and appends `FileQuarantined` or `FileQuarantineFailed`.
    public func stopAndQuarantineFile(
        tenant: TenantID, device: DeviceID, incident: IncidentID, sha1: String, comment: String, context: CommandContext
    ) async throws -> CommandOutcome<FileQuarantineRequested> {
        try await execute(
            tenant: tenant, context: context, fingerprint: ["stopAndQuarantineFile", device.rawValue, incident.description, sha1, comment]
        ) {
            let decided = try await decideIntervention(tenant: tenant, device: device, incident: incident) { incident, tenantState, at in
                .stopAndQuarantineFile(deviceID: device, incident: incident, tenant: tenantState, sha1: sha1, comment: comment, by: context.principal, at: at)
            }
            let events = decided.events
            guard case .fileQuarantineRequested(let requested)? = events.first else {
                throw DomainError(.invalidField, .invalid, "the stop-and-quarantine request could not be decided")
            }
            return Decision(
                events: events.map { EventToAppend($0, metadata: context.metadata) },
                expectations: decided.expectations, result: requested)
        }
    }
}
