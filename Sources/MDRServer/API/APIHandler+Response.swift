import Foundation
import MDRApplication
import MDRDomain
import OpenAPIRuntime

// MARK: - Response actions on a device

extension APIHandler {
    /// `POST /v1/tenants/{tenant}/devices/{device}/stop-and-quarantine`: records `FileQuarantineRequested`; the responder
    /// carries it out through the EDR.
    func stopAndQuarantineFile(_ input: Operations.StopAndQuarantineFile.Input) async throws -> Operations.StopAndQuarantineFile.Output {
        // The same right as isolation (DOMAIN.md: the SOC intervenes on a customer's endpoint, with its consent).
        let (principal, tenant) = try authorize(.isolateDevice, tenant: input.path.tenantId)
        let device = try deviceID(input.path.deviceId)
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        guard let incident = IncidentID(body.incidentId) else {
            throw DomainError(.invalidField, .invalid, "incidentId: '\(body.incidentId.prefix(80))' is not an incident id (a UUID)")
        }
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline {
            try await commands.stopAndQuarantineFile(
                tenant: tenant, device: device, incident: incident, sha1: body.sha1, comment: body.comment, context: context)
        }
        let r = outcome.result
        return .accepted(
            .init(
                headers: .init(idempotentReplayed: replayed(outcome)),
                body: .json(
                    .init(
                        deviceId: r.deviceID.rawValue, incidentId: r.incidentID.description, sha1: r.sha1, comment: r.comment,
                        requestedBy: r.requestedBy, requestedAt: r.requestedAt))))
    }
}
