import Foundation
import MDRApplication
import MDRDomain
import OpenAPIRuntime

// MARK: - Onboarding steps 2–5, contacts, consent and notice (Dynamic)

extension APIHandler {
    func recordHealthCheck(_ input: Operations.RecordHealthCheck.Input) async throws -> Operations.RecordHealthCheck.Output {
        let (principal, tenant) = try authorize(.manageTenant, tenant: input.path.tenantId)
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let source = SignalSource(rawValue: body.source.rawValue)!
        let status = HealthCheckStatus(rawValue: body.status.rawValue)!
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline {
            try await commands.recordHealthCheck(tenant: tenant, source: source, status: status, missing: body.missing ?? [], context: context)
        }
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func completeRollOut(_ input: Operations.CompleteRollOut.Input) async throws -> Operations.CompleteRollOut.Output {
        let (principal, tenant) = try authorize(.manageTenant, tenant: input.path.tenantId)
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline { try await commands.completeRollOut(tenant: tenant, context: context) }
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func handOverToSoc(_ input: Operations.HandOverToSoc.Input) async throws -> Operations.HandOverToSoc.Output {
        let (principal, tenant) = try authorize(.manageTenant, tenant: input.path.tenantId)
        var tuningDays = TenantDecider.defaultTuningDays
        if case .json(let body)? = input.body, let days = body.tuningDays { tuningDays = days }
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let days = tuningDays
        let outcome = try await withinDeadline { try await commands.handOver(tenant: tenant, tuningDays: days, context: context) }
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func activateMonitoring(_ input: Operations.ActivateMonitoring.Input) async throws -> Operations.ActivateMonitoring.Output {
        let (principal, tenant) = try authorize(.manageTenant, tenant: input.path.tenantId)
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline { try await commands.activateMonitoring(tenant: tenant, context: context) }
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func updateContacts(_ input: Operations.UpdateContacts.Input) async throws -> Operations.UpdateContacts.Output {
        let (principal, tenant) = try authorize(.manageTenant, tenant: input.path.tenantId)
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let primary = body.primaryContact.map { Contact(name: $0.name, email: $0.email, phone: $0.phone) }
        let route = body.afterHoursRoute.map {
            ContactRoute(channel: ContactRoute.Channel(rawValue: $0.channel.rawValue)!, address: $0.address, note: $0.note)
        }
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline {
            try await commands.updateContacts(tenant: tenant, primary: primary, afterHoursRoute: route, context: context)
        }
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func withdrawConsent(_ input: Operations.WithdrawConsent.Input) async throws -> Operations.WithdrawConsent.Output {
        let (principal, tenant) = try authorize(.manageTenant, tenant: input.path.tenantId)
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline {
            try await commands.withdrawConsent(tenant: tenant, withdrawnBy: body.withdrawnBy, reason: body.reason, context: context)
        }
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func grantConsent(_ input: Operations.GrantConsent.Input) async throws -> Operations.GrantConsent.Output {
        let (principal, tenant) = try authorize(.manageTenant, tenant: input.path.tenantId)
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let consent = InterventionConsent(grantedBy: body.grantedBy, grantedOn: try CalendarDate.field("grantedOn", body.grantedOn))
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline { try await commands.grantConsent(tenant: tenant, consent: consent, context: context) }
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func giveNotice(_ input: Operations.GiveNotice.Input) async throws -> Operations.GiveNotice.Output {
        let (principal, tenant) = try authorize(.manageTenant, tenant: input.path.tenantId)
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let receivedOn = try CalendarDate.field("receivedOn", body.receivedOn)
        let channel = NoticeChannel(rawValue: body.channel.rawValue)!
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline {
            try await commands.giveNotice(tenant: tenant, receivedOn: receivedOn, channel: channel, context: context)
        }
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    func setOpeningThresholds(_ input: Operations.SetOpeningThresholds.Input) async throws -> Operations.SetOpeningThresholds.Output {
        let (principal, tenant) = try authorize(.tuneCorrelation, tenant: input.path.tenantId)
        guard case .json(let body) = input.body else { throw Problem.badRequest("expected a JSON body") }
        let thresholds = body.thresholds.map {
            OpeningThreshold(source: SignalSource(rawValue: $0.source.rawValue)!, severity: Severity(rawValue: $0.severity.rawValue)!)
        }
        let context = try commandContext(principal, idempotencyKey: input.headers.idempotencyKey, correlationID: input.headers.xCorrelationID)
        let commands = services.commands
        let outcome = try await withinDeadline {
            try await commands.setOpeningThresholds(tenant: tenant, thresholds, reason: body.reason, context: context)
        }
        return .ok(.init(headers: .init(idempotentReplayed: replayed(outcome)), body: .json(.init(outcome.result))))
    }

    // MARK: Contract lookup

    func getContract(_ input: Operations.GetContract.Input) async throws -> Operations.GetContract.Output {
        let (_, tenant) = try authorize(.readTenant, tenant: input.path.tenantId)
        // Without a date: today on the office-hours clock (Europe/Amsterdam), not in UTC.
        let on = try input.query.on.map { try CalendarDate.field("on", $0) } ?? BusinessClock.standard.localDate(of: services.commands.time.now())
        let queries = services.queries
        guard let found = try await withinDeadline({ try await queries.tenant(tenant) }) else {
            throw DomainError.tenantNotFound(tenant.rawValue)
        }
        return .ok(.init(body: .json(.init(MDRDomain.Contract(found).known(on: on), tenant: found.id, on: on))))
    }
}

// MARK: - Wire types

extension Components.Schemas.Contract {
    init(_ c: MDRDomain.Contract, tenant: TenantID, on: CalendarDate) {
        self.init(
            tenantId: tenant.rawValue, on: on.description, package: .init(rawValue: c.package.rawValue)!,
            mdrStatus: .init(rawValue: c.mdrStatus.rawValue)!, sla: c.sla.map { .init(rawValue: $0.rawValue)! }, start: c.start.description,
            initialTermEnd: c.initialTermEnd.description, phase: .init(rawValue: c.phase(on: on).rawValue)!,
            noticeReceivedOn: c.notice?.receivedOn.description, noticeChannel: c.notice.map { .init(rawValue: $0.channel.rawValue)! },
            endDate: c.endDate?.description)
    }
}

extension Components.Schemas.OnboardingStatus {
    init(_ p: OnboardingProgress) {
        self.init(
            phase: .init(rawValue: p.phase.rawValue)!,
            healthChecks: p.healthChecks.map {
                .init(
                    source: .init(rawValue: $0.source.rawValue)!, status: .init(rawValue: $0.status.rawValue)!, missing: $0.missing,
                    checkedAt: $0.checkedAt, checkedBy: $0.checkedBy)
            }, rolledOutAt: p.rolledOutAt, handedOverAt: p.handedOverAt, tuningDays: p.tuningDays, tuningEndsAt: p.tuningEndsAt,
            monitoringActiveSince: p.monitoringActiveSince)
    }
}
