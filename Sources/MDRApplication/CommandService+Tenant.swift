import Foundation
import MDRDomain
import MDRStore

// MARK: - Onboarding steps 2–5, contacts, consent and notice (Dynamic)

extension CommandService {
    /// Records a health check of one signal source (onboarding step 2).
    public func recordHealthCheck(
        tenant: TenantID, source: SignalSource, status: HealthCheckStatus, missing: [String], context: CommandContext
    ) async throws -> CommandOutcome<Tenant> {
        try await decideOnTenant(tenant, context: context, fingerprint: ["health-check", source.rawValue, status.rawValue] + missing) {
            .recordHealthCheck(source: source, status: status, missing: missing, by: context.principal, at: $0)
        }
    }

    /// Completes the roll-out (step 3); refused with `sources_missing` until every source delivers.
    public func completeRollOut(tenant: TenantID, context: CommandContext) async throws -> CommandOutcome<Tenant> {
        try await decideOnTenant(tenant, context: context, fingerprint: ["roll-out"]) { .completeRollOut(by: context.principal, at: $0) }
    }

    /// Hands the tenant over to the SOC (step 4), starting a tuning period of `tuningDays`.
    public func handOver(tenant: TenantID, tuningDays: Int, context: CommandContext) async throws -> CommandOutcome<Tenant> {
        try await decideOnTenant(tenant, context: context, fingerprint: ["hand-over", String(tuningDays)]) {
            .handOver(tuningDays: tuningDays, by: context.principal, at: $0)
        }
    }

    /// Activates 24/7 monitoring (step 5); its time is kept as evidence.
    public func activateMonitoring(tenant: TenantID, context: CommandContext) async throws -> CommandOutcome<Tenant> {
        try await decideOnTenant(tenant, context: context, fingerprint: ["activate-monitoring"]) {
            .activateMonitoring(by: context.principal, at: $0)
        }
    }

    /// Replaces the primary contact and/or the after-hours route; the same contacts again append nothing.
    public func updateContacts(
        tenant: TenantID, primary: Contact?, afterHoursRoute: ContactRoute?, context: CommandContext
    ) async throws -> CommandOutcome<Tenant> {
        let encoder = JSONCoding.encoder()
        let fingerprint = [
            "contacts", String(decoding: try encoder.encode(primary), as: UTF8.self),
            String(decoding: try encoder.encode(afterHoursRoute), as: UTF8.self),
        ]
        return try await decideOnTenant(tenant, context: context, fingerprint: fingerprint) {
            .updateContacts(primary: primary, afterHoursRoute: afterHoursRoute, by: context.principal, at: $0)
        }
    }

    /// Records that the customer withdrew its consent to intervene: isolation is refused from then on.
    public func withdrawConsent(tenant: TenantID, withdrawnBy: String, reason: String, context: CommandContext) async throws
        -> CommandOutcome<Tenant>
    {
        try await decideOnTenant(tenant, context: context, fingerprint: ["withdraw-consent", withdrawnBy, reason]) {
            .withdrawConsent(withdrawnBy: withdrawnBy, reason: reason, by: context.principal, at: $0)
        }
    }

    /// Records that the customer gave its consent to intervene again, after withdrawing it.
    public func grantConsent(tenant: TenantID, consent: InterventionConsent, context: CommandContext) async throws -> CommandOutcome<Tenant> {
        try await decideOnTenant(tenant, context: context, fingerprint: ["grant-consent", consent.grantedBy, consent.grantedOn.description]) {
            .grantConsent(consent, by: context.principal, at: $0)
        }
    }

    /// Records written notice of termination, received on `receivedOn` through `channel`.
    public func giveNotice(tenant: TenantID, receivedOn: CalendarDate, channel: NoticeChannel, context: CommandContext) async throws
        -> CommandOutcome<Tenant>
    {
        try await decideOnTenant(tenant, context: context, fingerprint: ["notice", receivedOn.description, channel.rawValue]) {
            .giveNotice(receivedOn: receivedOn, channel: channel, by: context.principal, at: $0)
        }
    }

    /// The SOC's tuning: from which severity each named source's signals open incidents for this tenant.
    public func setOpeningThresholds(tenant: TenantID, _ thresholds: [OpeningThreshold], reason: String, context: CommandContext)
        async throws -> CommandOutcome<Tenant>
    {
        let named = thresholds.map { "\($0.source.rawValue)=\($0.severity.rawValue)" }.sorted()
        return try await decideOnTenant(tenant, context: context, fingerprint: ["opening-thresholds"] + named + [reason]) {
            .setOpeningThresholds(thresholds, reason: reason, by: context.principal, at: $0)
        }
    }

    /// The one path of the commands on an onboarded tenant: decide on the tenant stream, answer with the tenant after.
    private func decideOnTenant(
        _ tenant: TenantID, context: CommandContext, fingerprint: [String], command: @escaping (Date) -> TenantDecider.Command
    ) async throws -> CommandOutcome<Tenant> {
        try await execute(tenant: tenant, context: context, fingerprint: [tenant.rawValue] + fingerprint) {
            let loaded = try await load(TenantDecider.self, tenant: tenant, stream: .tenant)
            let events = try TenantDecider.decide(command(time.now()), loaded.state)
            guard let after = TenantDecider.fold(events, from: loaded.state) else {
                throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenant)' not found: onboard it first")
            }
            return Decision(
                events: events.map { EventToAppend($0, metadata: context.metadata) }, expectations: [.tenant: .at(loaded.version)],
                result: after)
        }
    }
}
