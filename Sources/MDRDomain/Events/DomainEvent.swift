import Foundation

/// The payload of one kind of event: a past-tense fact with a stable type name and schema version.
public protocol DomainEventPayload: Codable, Sendable, Equatable {
    /// The stored type name. Never changes once events of it exist.
    static var eventType: String { get }
    /// Raised when the payload's shape changes; `EventCodec` upcasts older versions.
    static var schemaVersion: Int { get }
}

extension DomainEventPayload {
    public static var schemaVersion: Int { 1 }
}

/// Every event of the domain.
public enum DomainEvent: Sendable, Equatable {
    case tenantOnboarded(TenantOnboarded)
    case signalIngested(SignalIngested)
    case signalUpdated(SignalUpdated)
    case incidentOpened(IncidentOpened)
    case signalAttached(SignalAttached)
    case incidentPriorityRaised(IncidentPriorityRaised)
    case incidentConfirmed(IncidentConfirmed)
    case incidentDismissed(IncidentDismissed)
    case incidentResolved(IncidentResolved)
    case incidentAbsorbed(IncidentAbsorbed)
    case incidentMerged(IncidentMerged)
    case incidentAssigned(IncidentAssigned)
    case incidentNoteAdded(IncidentNoteAdded)
    case deviceIsolationRequested(DeviceIsolationRequested)
    case deviceIsolated(DeviceIsolated)
    case deviceIsolationFailed(DeviceIsolationFailed)
    case deviceReleaseRequested(DeviceReleaseRequested)
    case deviceReleased(DeviceReleased)
    case suppressionRuleAdded(SuppressionRuleAdded)
    case suppressionRuleExpired(SuppressionRuleExpired)
    case slaBreached(SlaBreached)
    case notificationDelivered(NotificationDelivered)
    case notificationAttemptFailed(NotificationAttemptFailed)
    case notificationFailed(NotificationFailed)
    case notificationAcknowledged(NotificationAcknowledged)

    case edrActionSubmitted(EDRActionSubmitted)
    case deviceReleaseFailed(DeviceReleaseFailed)
    case fileQuarantineRequested(FileQuarantineRequested)
    case fileQuarantined(FileQuarantined)
    case fileQuarantineFailed(FileQuarantineFailed)
    case healthCheckRecorded(HealthCheckRecorded)
    case rollOutCompleted(RollOutCompleted)
    case handedOverToSoc(HandedOverToSoc)
    case monitoringActivated(MonitoringActivated)
    case contactsUpdated(ContactsUpdated)
    case consentWithdrawn(ConsentWithdrawn)
    case noticeGiven(NoticeGiven)
    case deviceEnrolled(DeviceEnrolled)
    case deviceOffboarded(DeviceOffboarded)
    case consentGranted(ConsentGranted)
    case openingThresholdsSet(OpeningThresholdsSet)

    /// The payload, type-erased.
    public var payload: any DomainEventPayload {
        switch self {
        case .tenantOnboarded(let e): e
        case .signalIngested(let e): e
        case .signalUpdated(let e): e
        case .incidentOpened(let e): e
        case .signalAttached(let e): e
        case .incidentPriorityRaised(let e): e
        case .incidentConfirmed(let e): e
        case .incidentDismissed(let e): e
        case .incidentResolved(let e): e
        case .incidentAbsorbed(let e): e
        case .incidentMerged(let e): e
        case .incidentAssigned(let e): e
        case .incidentNoteAdded(let e): e
        case .deviceIsolationRequested(let e): e
        case .deviceIsolated(let e): e
        case .deviceIsolationFailed(let e): e
        case .deviceReleaseRequested(let e): e
        case .deviceReleased(let e): e
        case .suppressionRuleAdded(let e): e
        case .suppressionRuleExpired(let e): e
        case .slaBreached(let e): e
        case .notificationDelivered(let e): e
        case .notificationAttemptFailed(let e): e
        case .notificationFailed(let e): e
        case .notificationAcknowledged(let e): e
        case .edrActionSubmitted(let e): e
        case .deviceReleaseFailed(let e): e
        case .fileQuarantineRequested(let e): e
        case .fileQuarantined(let e): e
        case .fileQuarantineFailed(let e): e
        case .healthCheckRecorded(let e): e
        case .rollOutCompleted(let e): e
        case .handedOverToSoc(let e): e
        case .monitoringActivated(let e): e
        case .contactsUpdated(let e): e
        case .consentWithdrawn(let e): e
        case .noticeGiven(let e): e
        case .deviceEnrolled(let e): e
        case .deviceOffboarded(let e): e
        case .consentGranted(let e): e
        case .openingThresholdsSet(let e): e
        }
    }

    public var type: String { Swift.type(of: payload).eventType }
    public var schemaVersion: Int { Swift.type(of: payload).schemaVersion }

    /// The stream an event belongs to in its tenant's log.
    public var stream: StreamName {
        switch self {
        case .tenantOnboarded: .tenant
        case .signalIngested(let e): e.signal.stream
        case .signalUpdated(let e): .signal(e.source, e.sourceAlertID)
        case .incidentOpened(let e): .incident(e.incidentID)
        case .signalAttached(let e): .incident(e.incidentID)
        case .incidentPriorityRaised(let e): .incident(e.incidentID)
        case .incidentConfirmed(let e): .incident(e.incidentID)
        case .incidentDismissed(let e): .incident(e.incidentID)
        case .incidentResolved(let e): .incident(e.incidentID)
        case .incidentAbsorbed(let e): .incident(e.incidentID)
        case .incidentMerged(let e): .incident(e.incidentID)
        case .incidentAssigned(let e): .incident(e.incidentID)
        case .incidentNoteAdded(let e): .incident(e.incidentID)
        case .deviceIsolationRequested(let e): .device(e.deviceID)
        case .deviceIsolated(let e): .device(e.deviceID)
        case .deviceIsolationFailed(let e): .device(e.deviceID)
        case .deviceReleaseRequested(let e): .device(e.deviceID)
        case .deviceReleased(let e): .device(e.deviceID)
        case .suppressionRuleAdded, .suppressionRuleExpired: .suppressionRules
        case .slaBreached(let e): .incident(e.incidentID)
        case .notificationDelivered(let e): .notification(e.notificationID)
        case .notificationAttemptFailed(let e): .notification(e.notificationID)
        case .notificationFailed(let e): .notification(e.notificationID)
        case .notificationAcknowledged(let e): .notification(e.notificationID)
        case .edrActionSubmitted(let e): .device(e.deviceID)
        case .deviceReleaseFailed(let e): .device(e.deviceID)
        case .fileQuarantineRequested(let e): .device(e.deviceID)
        case .fileQuarantined(let e): .device(e.deviceID)
        case .fileQuarantineFailed(let e): .device(e.deviceID)
        case .healthCheckRecorded, .rollOutCompleted, .handedOverToSoc, .monitoringActivated, .contactsUpdated, .consentWithdrawn,
            .consentGranted, .noticeGiven, .openingThresholdsSet:
            .tenant
        case .deviceEnrolled, .deviceOffboarded: .deviceInventory
        }
    }
}

/// The name of a stream within a tenant's log. Streams are per tenant: the same name in two tenants is two streams.
public struct StreamName: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The tenant's own stream: onboarding, contract, contacts.
    public static let tenant = StreamName(rawValue: "tenant")
    public static func incident(_ id: IncidentID) -> StreamName { StreamName(rawValue: "incident:\(id)") }
    public static func device(_ id: DeviceID) -> StreamName { StreamName(rawValue: "device:\(id.rawValue)") }
    public static func signal(_ source: SignalSource, _ alertID: String) -> StreamName {
        StreamName(rawValue: "signal:\(source.rawValue):\(alertID)")
    }

    public var description: String { rawValue }
}

/// Encodes events to their stored form (type, schema version, JSON) and back.
public enum EventCodec {
    public struct UnknownEvent: Error, CustomStringConvertible {
        public var type: String
        public var schemaVersion: Int
        public var description: String { "unknown event type \(type) v\(schemaVersion)" }
    }

    static let decoders: [String: @Sendable (Data) throws -> DomainEvent] = {
        func entry<P: DomainEventPayload>(_ p: P.Type, _ wrap: @escaping @Sendable (P) -> DomainEvent) -> (String, @Sendable (Data) throws -> DomainEvent) {
            (P.eventType, { data in wrap(try JSONCoding.decoder().decode(P.self, from: data)) })
        }
        return Dictionary(uniqueKeysWithValues: [
            entry(TenantOnboarded.self, DomainEvent.tenantOnboarded),
            entry(SignalIngested.self, DomainEvent.signalIngested),
            entry(SignalUpdated.self, DomainEvent.signalUpdated),
            entry(IncidentOpened.self, DomainEvent.incidentOpened),
            entry(SignalAttached.self, DomainEvent.signalAttached),
            entry(IncidentPriorityRaised.self, DomainEvent.incidentPriorityRaised),
            entry(IncidentConfirmed.self, DomainEvent.incidentConfirmed),
            entry(IncidentDismissed.self, DomainEvent.incidentDismissed),
            entry(IncidentResolved.self, DomainEvent.incidentResolved),
            entry(IncidentAbsorbed.self, DomainEvent.incidentAbsorbed),
            entry(IncidentMerged.self, DomainEvent.incidentMerged),
            entry(IncidentAssigned.self, DomainEvent.incidentAssigned),
            entry(IncidentNoteAdded.self, DomainEvent.incidentNoteAdded),
            entry(DeviceIsolationRequested.self, DomainEvent.deviceIsolationRequested),
            entry(DeviceIsolated.self, DomainEvent.deviceIsolated),
            entry(DeviceIsolationFailed.self, DomainEvent.deviceIsolationFailed),
            entry(DeviceReleaseRequested.self, DomainEvent.deviceReleaseRequested),
            entry(DeviceReleased.self, DomainEvent.deviceReleased),
            entry(SuppressionRuleAdded.self, DomainEvent.suppressionRuleAdded),
            entry(SuppressionRuleExpired.self, DomainEvent.suppressionRuleExpired),
            entry(SlaBreached.self, DomainEvent.slaBreached),
            entry(NotificationDelivered.self, DomainEvent.notificationDelivered),
            entry(NotificationAttemptFailed.self, DomainEvent.notificationAttemptFailed),
            entry(NotificationFailed.self, DomainEvent.notificationFailed),
            entry(NotificationAcknowledged.self, DomainEvent.notificationAcknowledged),
            entry(EDRActionSubmitted.self, DomainEvent.edrActionSubmitted),
            entry(DeviceReleaseFailed.self, DomainEvent.deviceReleaseFailed),
            entry(FileQuarantineRequested.self, DomainEvent.fileQuarantineRequested),
            entry(FileQuarantined.self, DomainEvent.fileQuarantined),
            entry(FileQuarantineFailed.self, DomainEvent.fileQuarantineFailed),
            entry(HealthCheckRecorded.self, DomainEvent.healthCheckRecorded),
            entry(RollOutCompleted.self, DomainEvent.rollOutCompleted),
            entry(HandedOverToSoc.self, DomainEvent.handedOverToSoc),
            entry(MonitoringActivated.self, DomainEvent.monitoringActivated),
            entry(ContactsUpdated.self, DomainEvent.contactsUpdated),
            entry(ConsentWithdrawn.self, DomainEvent.consentWithdrawn),
            entry(NoticeGiven.self, DomainEvent.noticeGiven),
            entry(DeviceEnrolled.self, DomainEvent.deviceEnrolled),
            entry(DeviceOffboarded.self, DomainEvent.deviceOffboarded),
            entry(ConsentGranted.self, DomainEvent.consentGranted),
            entry(OpeningThresholdsSet.self, DomainEvent.openingThresholdsSet),
        ])
    }()

    /// All known event type names.
    public static var knownTypes: [String] { decoders.keys.sorted() }

    public static func encode(_ event: DomainEvent) -> Data {
        // Encoding plain Codable structs of strings, numbers and dates cannot fail.
        try! JSONCoding.encoder().encode(event.payload)
    }

    public static func decode(type: String, schemaVersion: Int, data: Data) throws -> DomainEvent {
        guard schemaVersion == 1, let decode = decoders[type] else {
            throw UnknownEvent(type: type, schemaVersion: schemaVersion)
        }
        return try decode(data)
    }
}
