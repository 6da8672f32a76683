import Foundation

/// Whether a signal source delivers what MDR needs, as a health check found it.
public enum HealthCheckStatus: String, Sendable, Codable, CaseIterable {
    case delivering
    case missing
}

/// One health check of one signal source (onboarding step 2).
public struct HealthCheck: Hashable, Sendable, Codable {
    public var source: SignalSource
    public var status: HealthCheckStatus
    /// What is missing, in the checker's words ("mail", "sign-ins"); empty when delivering.
    public var missing: [String]
    public var checkedAt: Date
    public var checkedBy: String
}

/// The steps after onboarding (`DOMAIN.md`, "Onboarding" 2–5), as the tenant's events make them.
public enum OnboardingPhase: String, Sendable, Codable, CaseIterable {
    /// Onboarded; health checks being recorded.
    case onboarded
    /// Roll-out completed (monitoring activated through Intune).
    case rolledOut = "rolled_out"
    /// Handed over to the SOC: the tuning period.
    case handedOver = "handed_over"
    /// 24/7 monitoring active.
    case monitoringActive = "monitoring_active"
}

/// Where a tenant's onboarding stands.
public struct OnboardingProgress: Hashable, Sendable, Codable {
    /// The latest health check per source, in the order of `SignalSource.allCases`.
    public var healthChecks: [HealthCheck] = []
    public var rolledOutAt: Date?
    public var handedOverAt: Date?
    public var tuningDays: Int?
    public var tuningEndsAt: Date?
    /// The evidence for NIS2 and audits: since when the SOC watches 24/7.
    public var monitoringActiveSince: Date?

    public init() {}

    public var phase: OnboardingPhase {
        if monitoringActiveSince != nil { return .monitoringActive }
        if handedOverAt != nil { return .handedOver }
        if rolledOutAt != nil { return .rolledOut }
        return .onboarded
    }

    public func healthCheck(_ source: SignalSource) -> HealthCheck? {
        healthChecks.first { $0.source == source }
    }

    /// The sources without a health check, or whose latest check found them missing.
    public var sourcesNotDelivering: [SignalSource] {
        SignalSource.allCases.filter { healthCheck($0)?.status != .delivering }
    }

    mutating func record(_ check: HealthCheck) {
        healthChecks.removeAll { $0.source == check.source }
        healthChecks.append(check)
        healthChecks.sort { a, b in
            SignalSource.allCases.firstIndex(of: a.source)! < SignalSource.allCases.firstIndex(of: b.source)!
        }
    }
}

// MARK: Events

public struct HealthCheckRecorded: DomainEventPayload {
    public static let eventType = "HealthCheckRecorded"
    public var source: SignalSource
    public var status: HealthCheckStatus
    public var missing: [String]
    public var checkedBy: String
    public var checkedAt: Date
}

public struct RollOutCompleted: DomainEventPayload {
    public static let eventType = "RollOutCompleted"
    public var completedBy: String
    public var completedAt: Date
}

public struct HandedOverToSoc: DomainEventPayload {
    public static let eventType = "HandedOverToSoc"
    public var tuningDays: Int
    public var tuningEndsAt: Date
    public var handedOverBy: String
    public var handedOverAt: Date
}

public struct MonitoringActivated: DomainEventPayload {
    public static let eventType = "MonitoringActivated"
    public var activatedBy: String
    public var activatedAt: Date
}

/// New contacts; a nil field is unchanged.
public struct ContactsUpdated: DomainEventPayload {
    public static let eventType = "ContactsUpdated"
    public var primaryContact: Contact?
    public var afterHoursRoute: ContactRoute?
    public var updatedBy: String
    public var updatedAt: Date
}

/// The customer withdrew its consent to intervene: isolation and stop-and-quarantine are refused from then on.
public struct ConsentWithdrawn: DomainEventPayload {
    public static let eventType = "ConsentWithdrawn"
    /// Who at the customer withdrew it.
    public var withdrawnBy: String
    public var reason: String
    /// The principal who recorded it.
    public var recordedBy: String
    public var withdrawnAt: Date
}

/// The customer gave its consent to intervene again, after withdrawing it: isolation is allowed again.
public struct ConsentGranted: DomainEventPayload {
    public static let eventType = "ConsentGranted"
    public var consent: InterventionConsent
    /// The principal who recorded it.
    public var recordedBy: String
    public var recordedAt: Date

    public init(consent: InterventionConsent, recordedBy: String, recordedAt: Date) {
        self.consent = consent
        self.recordedBy = recordedBy
        self.recordedAt = recordedAt
    }
}

extension DomainError.Code {
    // Onboarding
    public static let sourcesMissing: Self = "sources_missing"
    public static let noticeInFuture: Self = "notice_in_future"
    public static let rollOutAlreadyCompleted: Self = "roll_out_already_completed"
    public static let rollOutNotCompleted: Self = "roll_out_not_completed"
    public static let alreadyHandedOver: Self = "already_handed_over"
    public static let notHandedOver: Self = "not_handed_over"
    public static let monitoringAlreadyActive: Self = "monitoring_already_active"
    public static let consentAlreadyWithdrawn: Self = "consent_already_withdrawn"
    public static let consentAlreadyOnFile: Self = "consent_already_on_file"
    // Contract
    public static let noticeAlreadyGiven: Self = "notice_already_given"
    public static let noticeBeforeContractStart: Self = "notice_before_contract_start"
}

// MARK: Decisions

extension TenantDecider {
    /// The tuning period when the hand-over names none (*default*, `DOMAIN.md`).
    public static let defaultTuningDays = 30

    static func decideOnTenant(_ command: Command, _ tenant: Tenant) throws(DomainError) -> [DomainEvent] {
        let progress = tenant.onboarding ?? OnboardingProgress()
        switch command {
        case .onboard(let c):
            throw DomainError(.tenantExists, .conflict, "tenant '\(c.tenantID)' is already onboarded")

        case .recordHealthCheck(let source, let status, let missing, let by, let at):
            var items: [String] = []
            for raw in missing {
                let item = raw.trimmingSpaces
                guard !item.isEmpty, item.count <= 100 else {
                    throw DomainError(.invalidField, .invalid, "missing: each item names what is missing in 1–100 characters (e.g. 'mail')")
                }
                if !items.contains(item) { items.append(item) }
            }
            guard items.count <= 20 else { throw DomainError(.invalidField, .invalid, "missing: at most 20 items") }
            if status == .delivering, !items.isEmpty {
                throw DomainError(.invalidField, .invalid, "a source that is delivering has nothing missing: send status 'missing' or no items")
            }
            return [.healthCheckRecorded(HealthCheckRecorded(source: source, status: status, missing: items, checkedBy: by.id, checkedAt: at))]

        case .completeRollOut(let by, let at):
            guard progress.rolledOutAt == nil else {
                throw DomainError(.rollOutAlreadyCompleted, .conflict, "the roll-out of tenant '\(tenant.id)' is already completed")
            }
            let notDelivering = progress.sourcesNotDelivering
            guard notDelivering.isEmpty else {
                let names = notDelivering.map(\.rawValue).joined(separator: ", ")
                throw DomainError(
                    .sourcesMissing, .conflict,
                    "the roll-out needs every signal source delivering; not yet: \(names): record a health check that finds each delivering")
            }
            return [.rollOutCompleted(RollOutCompleted(completedBy: by.id, completedAt: at))]

        case .handOver(let tuningDays, let by, let at):
            guard progress.rolledOutAt != nil else {
                throw DomainError(.rollOutNotCompleted, .conflict, "complete the roll-out of tenant '\(tenant.id)' before handing it over to the SOC")
            }
            guard progress.handedOverAt == nil else {
                throw DomainError(.alreadyHandedOver, .conflict, "tenant '\(tenant.id)' is already handed over to the SOC")
            }
            guard (1...365).contains(tuningDays) else {
                throw DomainError(.invalidField, .invalid, "tuningDays: a tuning period of 1–365 days (default \(defaultTuningDays))")
            }
            return [
                .handedOverToSoc(
                    HandedOverToSoc(
                        tuningDays: tuningDays, tuningEndsAt: at.addingTimeInterval(Double(tuningDays) * 86_400), handedOverBy: by.id,
                        handedOverAt: at))
            ]

        case .activateMonitoring(let by, let at):
            guard progress.handedOverAt != nil else {
                throw DomainError(.notHandedOver, .conflict, "hand tenant '\(tenant.id)' over to the SOC before activating monitoring")
            }
            guard progress.monitoringActiveSince == nil else {
                throw DomainError(.monitoringAlreadyActive, .conflict, "monitoring of tenant '\(tenant.id)' is already active")
            }
            return [.monitoringActivated(MonitoringActivated(activatedBy: by.id, activatedAt: at))]

        case .updateContacts(let primary, let route, let by, let at):
            guard primary != nil || route != nil else {
                throw DomainError(.invalidField, .invalid, "send a primary contact, an after-hours route or both")
            }
            let newPrimary = try primary?.validated("primary contact")
            let newRoute = try route?.validated()
            let changedPrimary = newPrimary == tenant.primaryContact ? nil : newPrimary
            let changedRoute = newRoute == tenant.afterHoursRoute ? nil : newRoute
            // The same contacts again change nothing: nothing to record.
            guard changedPrimary != nil || changedRoute != nil else { return [] }
            return [
                .contactsUpdated(ContactsUpdated(primaryContact: changedPrimary, afterHoursRoute: changedRoute, updatedBy: by.id, updatedAt: at))
            ]

        case .withdrawConsent(let withdrawnBy, let reason, let by, let at):
            guard tenant.consent != nil else {
                throw DomainError(.consentAlreadyWithdrawn, .conflict, "tenant '\(tenant.id)' has no consent to intervene on file")
            }
            let who = withdrawnBy.trimmingSpaces, why = reason.trimmingSpaces
            guard !who.isEmpty, who.count <= 200 else {
                throw DomainError(.invalidField, .invalid, "withdrawnBy: who at the customer withdrew the consent (1–200 characters)")
            }
            guard !why.isEmpty, why.count <= 1000 else {
                throw DomainError(.reasonMissing, .invalid, "a reason (1–1000 characters) is required, as the customer gave it")
            }
            return [.consentWithdrawn(ConsentWithdrawn(withdrawnBy: who, reason: why, recordedBy: by.id, withdrawnAt: at))]

        case .grantConsent(let consent, let by, let at):
            // Consent given at onboarding is part of the onboarding; this is for the customer who withdrew it.
            guard tenant.consent == nil else {
                throw DomainError(
                    .consentAlreadyOnFile, .conflict, "tenant '\(tenant.id)' has consent to intervene on file: there is nothing to grant")
            }
            let who = consent.grantedBy.trimmingSpaces
            guard !who.isEmpty, who.count <= 200 else {
                throw DomainError(.invalidField, .invalid, "grantedBy: who at the customer gave the consent (1–200 characters)")
            }
            guard consent.grantedOn <= BusinessClock.standard.localDate(of: at) else {
                throw DomainError(.invalidField, .invalid, "grantedOn \(consent.grantedOn) lies in the future: record consent once it was given")
            }
            return [.consentGranted(ConsentGranted(consent: InterventionConsent(grantedBy: who, grantedOn: consent.grantedOn), recordedBy: by.id, recordedAt: at))]

        case .giveNotice(let receivedOn, let channel, let by, let at):
            let contract = Contract(tenant)
            if let notice = tenant.notice {
                throw DomainError(
                    .noticeAlreadyGiven, .conflict,
                    "notice was already received on \(notice.receivedOn); the contract ends on \(contract.endDate?.description ?? "?")")
            }
            guard receivedOn >= tenant.contractStart else {
                throw DomainError(
                    .noticeBeforeContractStart, .invalid,
                    "receivedOn \(receivedOn) is before the contract start \(tenant.contractStart): give the date the notice was received")
            }
            // Notice is recorded once it has arrived: a date after today (Europe/Amsterdam) is a typing error.
            guard receivedOn <= BusinessClock.standard.localDate(of: at) else {
                throw DomainError(
                    .noticeInFuture, .invalid, "receivedOn \(receivedOn) lies in the future: record notice once it was received")
            }
            let end = Contract.endDate(initialTermEnd: contract.initialTermEnd, noticeReceivedOn: receivedOn)
            return [.noticeGiven(NoticeGiven(receivedOn: receivedOn, channel: channel, endDate: end, recordedBy: by.id, recordedAt: at))]

        case .setOpeningThresholds(let thresholds, let reason, let by, let at):
            return try openingThresholds(thresholds, reason: reason, tenant: tenant, by: by, at: at)
        }
    }

    /// Folds the events of onboarding steps 2–5, contacts, consent and notice into an onboarded tenant.
    static func evolveOnboarded(_ tenant: Tenant, _ event: DomainEvent) -> Tenant {
        var tenant = tenant
        var progress = tenant.onboarding ?? OnboardingProgress()
        switch event {
        case .healthCheckRecorded(let e):
            progress.record(HealthCheck(source: e.source, status: e.status, missing: e.missing, checkedAt: e.checkedAt, checkedBy: e.checkedBy))
        case .rollOutCompleted(let e):
            progress.rolledOutAt = e.completedAt
        case .handedOverToSoc(let e):
            progress.handedOverAt = e.handedOverAt
            progress.tuningDays = e.tuningDays
            progress.tuningEndsAt = e.tuningEndsAt
        case .monitoringActivated(let e):
            progress.monitoringActiveSince = e.activatedAt
        case .contactsUpdated(let e):
            if let c = e.primaryContact { tenant.primaryContact = c }
            if let r = e.afterHoursRoute { tenant.afterHoursRoute = r }
            return tenant
        case .consentWithdrawn:
            tenant.consent = nil
            return tenant
        case .consentGranted(let e):
            tenant.consent = e.consent
            return tenant
        case .noticeGiven(let e):
            tenant.notice = ContractNotice(receivedOn: e.receivedOn, channel: e.channel, recordedBy: e.recordedBy, recordedAt: e.recordedAt)
            return tenant
        case .openingThresholdsSet(let e):
            tenant.openingThresholds = e.thresholds.isEmpty ? nil : e.thresholds
            return tenant
        default:
            return tenant
        }
        tenant.onboarding = progress
        return tenant
    }
}
