import Foundation
import MDRApplication
import MDRConnectors
import MDRDomain
import MDRResponse
import MDRStore
import OpenAPIRuntime

// Conversions between the generated wire types of `openapi.yaml` and the domain. The wire enums mirror the
// domain's raw values, so a conversion between them cannot fail; keeping them apart keeps the contract explicit.

// MARK: - Requests

extension OnboardTenant {
    /// The command from the request body; malformed values are refused with the domain's codes. Missing contact,
    /// route or consent stay nil for `TenantDecider` to refuse with its own codes.
    init(_ body: Components.Schemas.OnboardTenantRequest) throws {
        let tenant = try TenantID.parse(body.tenantId)
        var price: Int?
        if let cents = body.pricePerWorkstationCents {
            guard let value = Int(exactly: cents) else { throw DomainError(.invalidField, .invalid, "pricePerWorkstationCents is out of range") }
            price = value
        }
        self.init(
            tenantID: tenant, name: body.name, package: ServicePackage(body.package),
            contractStart: try CalendarDate.field("contractStart", body.contractStart), pricePerWorkstationCents: price,
            primaryContact: body.primaryContact.map { Contact(name: $0.name, email: $0.email, phone: $0.phone) },
            afterHoursRoute: body.afterHoursRoute.map {
                ContactRoute(channel: ContactRoute.Channel(rawValue: $0.channel.rawValue)!, address: $0.address, note: $0.note)
            },
            consent: try body.consent.map {
                InterventionConsent(grantedBy: $0.grantedBy, grantedOn: try CalendarDate.field("consent.grantedOn", $0.grantedOn))
            },
            nis2InScope: body.nis2InScope ?? false, at: Date())
    }
}

extension CalendarDate {
    static func field(_ name: String, _ raw: String) throws(DomainError) -> CalendarDate {
        guard let date = CalendarDate(raw) else {
            throw DomainError(.invalidField, .invalid, "\(name): '\(raw.prefix(40))' is not a date: use YYYY-MM-DD")
        }
        return date
    }
}

extension ServicePackage {
    init(_ wire: Components.Schemas.ServicePackage) { self = ServicePackage(rawValue: wire.rawValue)! }
}

extension Priority {
    init(_ wire: Components.Schemas.Priority) { self = Priority(rawValue: wire.rawValue)! }
}

extension DismissalClassification {
    init(_ wire: Components.Schemas.DismissIncidentRequest.ClassificationPayload) {
        self = DismissalClassification(rawValue: wire.rawValue)!
    }
}

extension IsolationType {
    init(_ wire: Components.Schemas.IsolateDeviceRequest.IsolationTypePayload) { self = IsolationType(rawValue: wire.rawValue)! }
}

extension SuppressionMatch {
    init(_ wire: Components.Schemas.SuppressionMatch) throws {
        var device: DeviceID?
        if let raw = wire.device, !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let id = DeviceID(rawValue: raw) else {
                throw DomainError(.invalidField, .invalid, "match.device: '\(raw.prefix(80))' is not a device id (1–200 characters without '/')")
            }
            device = id
        }
        self.init(
            source: wire.source.map { SignalSource(rawValue: $0.rawValue)! }, titleContains: wire.titleContains, device: device, user: wire.user,
            ip: wire.ip, fileHash: wire.fileHash, mitreTechnique: wire.mitreTechnique)
    }
}

// MARK: - Responses

extension Components.Schemas.SuppressionMatch {
    init(_ m: SuppressionMatch) {
        self.init(
            source: m.source.map { .init(rawValue: $0.rawValue)! }, titleContains: m.titleContains, device: m.device?.rawValue, user: m.user,
            ip: m.ip, fileHash: m.fileHash, mitreTechnique: m.mitreTechnique)
    }
}

extension Components.Schemas.SuppressionRule {
    /// The rule, with its status at `now`.
    init(_ r: SuppressionRule, now: Date) {
        self.init(
            ruleId: r.id.uuidString.lowercased(), match: .init(r.match), reason: r.reason, addedBy: r.addedBy, addedAt: r.addedAt,
            expiresAt: r.expiresAt, expiredAt: r.expiredAt, expiredBy: r.expiredBy, status: r.isActive(at: now) ? .active : .expired)
    }
}

extension Components.Schemas.Tenant {
    init(_ t: Tenant) {
        self.init(
            tenantId: t.id.rawValue, name: t.name, package: .init(rawValue: t.package.rawValue)!, sla: .init(rawValue: t.sla.rawValue)!,
            mdrStatus: .init(rawValue: t.mdrStatus.rawValue)!, contractStart: t.contractStart.description,
            pricePerWorkstationCents: t.pricePerWorkstationCents.map(Int64.init),
            primaryContact: .init(name: t.primaryContact.name, email: t.primaryContact.email, phone: t.primaryContact.phone),
            afterHoursRoute: .init(
                channel: .init(rawValue: t.afterHoursRoute.channel.rawValue)!, address: t.afterHoursRoute.address, note: t.afterHoursRoute.note),
            consent: t.consent.map { .init(grantedBy: $0.grantedBy, grantedOn: $0.grantedOn.description) }, nis2InScope: t.nis2InScope,
            onboardedAt: t.onboardedAt, onboarding: .init(t.onboardingProgress),
            openingThresholds: t.openingThresholds?.map { .init(source: .init(rawValue: $0.source.rawValue)!, severity: .init(rawValue: $0.severity.rawValue)!) })
    }
}

extension Components.Schemas.IngestReport {
    init(_ r: IngestReport) {
        self.init(
            accepted: r.accepted, duplicates: r.duplicates, updated: r.updated, suppressed: r.suppressed, rejected: r.rejected,
            items: r.items.map {
                .init(
                    index: $0.index, outcome: .init(rawValue: $0.outcome.rawValue)!, signalId: $0.signalID?.description, code: $0.code,
                    reason: $0.reason)
            })
    }
}

extension Components.Schemas.Incident {
    /// The incident; with `timeline` (the events of its stream) for reads.
    init(_ i: Incident, timeline: [RecordedEvent]?) {
        self.init(
            incidentId: i.id.description, status: .init(rawValue: i.status.rawValue)!, openedAt: i.openedAt, devices: i.devices.map(\.rawValue),
            users: i.entities.users, ips: i.entities.ips, fileHashes: i.entities.fileHashes,
            sources: i.sources.map { .init(rawValue: $0.rawValue)! }, signals: i.signals.map(\.description),
            highestSeverity: .init(rawValue: i.highestSeverity.rawValue)!, candidatePriority: .init(rawValue: i.candidatePriority.rawValue)!,
            linkedTo: i.linkedTo?.description, priority: i.priority.map { .init(rawValue: $0.rawValue)! }, summary: i.summary, confirmedAt: i.confirmedAt, confirmedBy: i.confirmedBy,
            closedAt: i.closedAt, closedBy: i.closedBy, closingNote: i.closingNote, dismissal: i.dismissal.map { .init(rawValue: $0.rawValue)! },
            mergedInto: i.mergedInto?.description, assignee: i.assignee,
            notes: i.notes?.map { .init(text: $0.text, author: $0.author, addedAt: $0.addedAt) },
            timeline: timeline?.map {
                .init(position: $0.position, version: $0.version, _type: $0.type, recordedAt: $0.recordedAt, actor: $0.metadata.actor)
            })
    }
}

extension Components.Schemas.DeviceIsolation {
    init(_ d: DeviceIsolation) {
        self.init(
            deviceId: d.deviceID.rawValue, state: .init(rawValue: d.state.rawValue)!, incidentId: d.incidentID?.description,
            history: d.history.map {
                .init(state: .init(rawValue: $0.state.rawValue)!, at: $0.at, by: $0.by, incidentId: $0.incidentID?.description, note: $0.note)
            })
    }
}

extension Components.Schemas.LoggedEvent {
    /// An event as stored: its payload and metadata as JSON objects, its hash in hex.
    init(_ e: RecordedEvent) throws {
        let decoder = JSONDecoder()
        let data = try decoder.decode(OpenAPIObjectContainer.self, from: Data(e.data.utf8))
        let metadata = try decoder.decode(OpenAPIObjectContainer.self, from: JSONCoding.encoder().encode(e.metadata))
        self.init(
            position: e.position, stream: e.stream.rawValue, version: e.version, eventId: e.eventID.uuidString.lowercased(), _type: e.type,
            schemaVersion: e.schemaVersion, data: .init(additionalProperties: data), metadata: .init(additionalProperties: metadata),
            recordedAt: e.recordedAt, hash: e.hash.map { String(format: "%02x", $0) }.joined())
    }
}

extension Components.Schemas.ConnectorHealth {
    /// A Graph connection's health at `now`, without its secret.
    init(_ c: GraphConnection, now: Date) {
        let h = c.health
        self.init(
            kind: .graphAlerts, state: StatePayload(rawValue: GraphConnectorHealth.state(h))!, clientId: c.credentials.clientID, checkpoint: h.checkpoint, lastSuccessAt: h.lastSuccessAt,
            lagSeconds: h.lag(at: now, setAt: c.createdAt), lastError: h.lastError, lastErrorAt: h.lastErrorAt, failures: h.failures,
            nextPollAt: h.nextPollAt, alertsIngested: h.alertsIngested, sweepInProgress: h.sweepInProgress, connectedAt: c.createdAt)
    }
}
