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
            let incidentStream = StreamName.incident(incident), deviceStream = StreamName.device(device)
            let history = try await store.readStreams(tenant: tenant, [.tenant, incidentStream, deviceStream])
            let tenantState = try Self.fold(TenantDecider.self, history[.tenant])
            guard tenantState.state != nil else { throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenant)' not found") }
            let incidentState = try Self.fold(IncidentDecider.self, history[incidentStream])
            let deviceState = try Self.fold(DeviceDecider.self, history[deviceStream])
            let events = try DeviceDecider.decide(
                .stopAndQuarantineFile(
                    deviceID: device, incident: incidentState.state, tenant: tenantState.state, sha1: sha1, comment: comment,
                    by: context.principal, at: time.now()), deviceState.state)
            guard case .fileQuarantineRequested(let requested)? = events.first else {
                throw DomainError(.invalidField, .invalid, "the stop-and-quarantine request could not be decided")
            }
            return Decision(
                events: events.map { EventToAppend($0, metadata: context.metadata) },
                // Consent and the incident must be as they were when we decided.
                expectations: [.tenant: .at(tenantState.version), incidentStream: .at(incidentState.version)], result: requested)
        }
    }
}
