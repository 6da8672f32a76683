import Foundation
import Testing

@testable import MDRDomain

/// The stored form of events (`EventCodec`) and the one JSON time format (`JSONCoding`, `Timestamp`).
@Suite struct CodecTests {
    // MARK: Event codec

    /// One event of every kind, with times at millisecond precision (as stored) and optional fields both set and unset.
    static let everyEvent: [DomainEvent] = {
        let t = Fixtures.time("2026-11-29T10:15:30.999Z")
        var veilig = Fixtures.tenant(.veilig, price: 1_250)
        veilig.onboardedAt = t
        var bare = Fixtures.tenant(.compliant)
        bare.primaryContact.phone = nil
        bare.afterHoursRoute.note = nil
        bare.consent = nil
        return [
            .tenantOnboarded(TenantOnboarded(tenant: veilig)),
            .tenantOnboarded(TenantOnboarded(tenant: bare)),
            .signalIngested(Fixtures.ingested(1)),
            .signalIngested(
                SignalIngested(
                    signalID: Fixtures.signalID(2),
                    signal: Signal(
                        source: .firewall, sourceAlertID: "fw-7", severity: .informational, title: "", observedAt: t,
                        entities: SignalEntities(ips: ["203.0.113.7", "2001:db8::1"], fileHashes: [String(repeating: "a", count: 64)])),
                    receivedAt: t)),
            .signalUpdated(SignalUpdated(signalID: Fixtures.signalID(1), source: .endpoint, sourceAlertID: "da-0001", status: .resolved, severity: .low, receivedAt: t)),
            Fixtures.incidentOpened(1, devices: [Fixtures.ws42, Fixtures.ws43]),
            Fixtures.signalAttached(1, signal: 3, devices: [Fixtures.ws43], severity: .critical),
            .incidentPriorityRaised(
                IncidentPriorityRaised(
                    incidentID: Fixtures.incidentID(1), from: .p3, to: .p1, reasons: ["signals from 3 sources (antivirus, endpoint, firewall)"],
                    raisedAt: Fixtures.t0)),
            .incidentConfirmed(
                IncidentConfirmed(incidentID: Fixtures.incidentID(1), priority: .p1, summary: "Ransomware", confirmedBy: "soc:anna", confirmedAt: t)),
            .incidentDismissed(
                IncidentDismissed(
                    incidentID: Fixtures.incidentID(2), classification: .benignPositive, reason: "admin script", dismissedBy: "soc:anna",
                    dismissedAt: t)),
            .incidentResolved(IncidentResolved(incidentID: Fixtures.incidentID(1), resolution: "reimaged", resolvedBy: "soc:anna", resolvedAt: t)),
            .incidentAbsorbed(
                IncidentAbsorbed(
                    incidentID: Fixtures.incidentID(1), absorbed: Fixtures.incidentID(2), signals: [Fixtures.signalID(7)],
                    entities: SignalEntities(devices: [Fixtures.ws43], users: ["anna@acme.example"]), sources: [.microsoft365], severity: .high,
                    candidatePriority: .p2, reason: "one campaign", mergedBy: "soc:anna", mergedAt: t)),
            .incidentAssigned(IncidentAssigned(incidentID: Fixtures.incidentID(1), assignee: "oidc:anna", assignedBy: "soc:anna", assignedAt: t)),
            .incidentNoteAdded(IncidentNoteAdded(incidentID: Fixtures.incidentID(1), text: "checked the proxy logs", author: "soc:anna", addedAt: t)),
            .incidentMerged(
                IncidentMerged(incidentID: Fixtures.incidentID(2), into: Fixtures.incidentID(1), reason: "one campaign", mergedBy: "soc:anna", mergedAt: t)),
            Fixtures.isolationRequested(),
            .deviceIsolationRequested(
                DeviceIsolationRequested(
                    deviceID: Fixtures.ws43, incidentID: Fixtures.incidentID(1), isolationType: .selective, comment: "keep Teams",
                    requestedBy: "soc:anna", requestedAt: t)),
            Fixtures.isolated(),
            .deviceIsolated(DeviceIsolated(deviceID: Fixtures.ws42, incidentID: Fixtures.incidentID(1), isolatedAt: t, edrActionID: nil)),
            Fixtures.isolationFailed(),
            Fixtures.releaseRequested(),
            Fixtures.released(),
            .deviceReleased(DeviceReleased(deviceID: Fixtures.ws42, releasedAt: t, edrActionID: nil)),
            .signalIngested(
                SignalIngested(
                    signalID: Fixtures.signalID(3), signal: Fixtures.signal(alert: "da-3"), receivedAt: t,
                    suppressedBy: UUID(uuidString: "00000000-0000-0000-0000-00000000000a")!)),
            .suppressionRuleAdded(
                SuppressionRuleAdded(
                    ruleID: UUID(uuidString: "00000000-0000-0000-0000-00000000000a")!,
                    match: SuppressionMatch(source: .endpoint, titleContains: "backup", device: Fixtures.ws42, user: "svc@acme.example",
                        ip: "10.0.0.1", fileHash: "abc", mitreTechnique: "T1059"),
                    reason: "nightly backup job", addedBy: "soc:anna", addedAt: t, expiresAt: t.addingTimeInterval(86_400))),
            .suppressionRuleAdded(
                SuppressionRuleAdded(
                    ruleID: UUID(uuidString: "00000000-0000-0000-0000-00000000000b")!, match: SuppressionMatch(ip: "10.0.0.2"),
                    reason: "scanner", addedBy: "soc:anna", addedAt: t, expiresAt: nil)),
            .suppressionRuleExpired(
                SuppressionRuleExpired(ruleID: UUID(uuidString: "00000000-0000-0000-0000-00000000000a")!, expiredBy: "soc:anna", expiredAt: t)),
            .slaBreached(
                SlaBreached(
                    incidentID: Fixtures.incidentID(1), target: .notify, priority: .p2, sla: .b, deadline: t, breachedAt: t.addingTimeInterval(0.5),
                    policyVersion: "2026-11")),
            .edrActionSubmitted(
                EDRActionSubmitted(
                    deviceID: Fixtures.ws42, incidentID: Fixtures.incidentID(1), action: .isolate, edrActionID: "b07f6a5e-5b4a-4c1e-9d4c-1f2e3d4c5b6a",
                    requestEventID: UUID(uuidString: "00000000-0000-0000-0000-00000000000c")!, submittedAt: t)),
            .edrActionSubmitted(
                EDRActionSubmitted(
                    deviceID: Fixtures.ws42, incidentID: nil, action: .release, edrActionID: nil,
                    requestEventID: UUID(uuidString: "00000000-0000-0000-0000-00000000000d")!, submittedAt: t)),
            .deviceReleaseFailed(DeviceReleaseFailed(deviceID: Fixtures.ws42, reason: "Defender reported the action Failed", failedAt: t, edrActionID: "a-2")),
            .fileQuarantineRequested(
                FileQuarantineRequested(
                    deviceID: Fixtures.ws42, incidentID: Fixtures.incidentID(1), sha1: "87662bc3d60e4200ceaf7aae249d1c343f4b83c9",
                    comment: "ransomware binary", requestedBy: "soc:anna", requestedAt: t)),
            .fileQuarantined(
                FileQuarantined(
                    deviceID: Fixtures.ws42, incidentID: Fixtures.incidentID(1), sha1: "87662bc3d60e4200ceaf7aae249d1c343f4b83c9", quarantinedAt: t,
                    edrActionID: "a-3")),
            .fileQuarantineFailed(
                FileQuarantineFailed(
                    deviceID: Fixtures.ws42, incidentID: Fixtures.incidentID(1), sha1: "87662bc3d60e4200ceaf7aae249d1c343f4b83c9",
                    reason: "machine not found", failedAt: t, edrActionID: nil)),
            .notificationDelivered(
                NotificationDelivered(
                    notificationID: "ntf_1", about: NotificationAbout(type: "incident.confirmed", incidentID: Fixtures.incidentID(1), priority: .p1),
                    route: NotificationRouteRecord(recipient: .dynamic, channel: .webhook, address: "https://soc.dynamic.example/hook"), attempt: 2,
                    deliveredAt: t)),
            .notificationAttemptFailed(
                NotificationAttemptFailed(
                    notificationID: "ntf_2", about: NotificationAbout(type: "isolation.succeeded", deviceID: Fixtures.ws42),
                    route: NotificationRouteRecord(recipient: .customerAfterHours, channel: .webhook, address: "https://it.acme.example/hook"),
                    attempt: 1, reason: "HTTP 502", attemptedAt: t, nextAttemptAt: t.addingTimeInterval(1))),
            .notificationFailed(
                NotificationFailed(
                    notificationID: "ntf_3", about: NotificationAbout(type: "incident.confirmed", incidentID: Fixtures.incidentID(1), priority: .p2),
                    route: NotificationRouteRecord(recipient: .customerPrimary, channel: .email, address: "anna@acme.example"), attempts: 0,
                    reason: "SMTP 550 no such user", failedAt: t)),
            .notificationAcknowledged(NotificationAcknowledged(notificationID: "ntf_1", acknowledgedBy: "token:dynamic", acknowledgedAt: t)),
            .healthCheckRecorded(
                HealthCheckRecorded(source: .microsoft365, status: .missing, missing: ["mail", "sign-ins"], checkedBy: "dynamic:piet", checkedAt: t)),
            .healthCheckRecorded(HealthCheckRecorded(source: .firewall, status: .delivering, missing: [], checkedBy: "dynamic:piet", checkedAt: t)),
            .rollOutCompleted(RollOutCompleted(completedBy: "dynamic:piet", completedAt: t)),
            .handedOverToSoc(
                HandedOverToSoc(tuningDays: 30, tuningEndsAt: t.addingTimeInterval(30 * 86_400), handedOverBy: "dynamic:piet", handedOverAt: t)),
            .monitoringActivated(MonitoringActivated(activatedBy: "dynamic:piet", activatedAt: t)),
            .contactsUpdated(
                ContactsUpdated(
                    primaryContact: Contact(name: "Piet Jansen", email: "piet@acme.example"),
                    afterHoursRoute: ContactRoute(channel: .webhook, address: "https://it.acme.example/hook", note: "24/7"),
                    updatedBy: "dynamic:piet", updatedAt: t)),
            .contactsUpdated(ContactsUpdated(primaryContact: nil, afterHoursRoute: nil, updatedBy: "dynamic:piet", updatedAt: t)),
            .consentWithdrawn(ConsentWithdrawn(withdrawnBy: "Jan de Vries", reason: "board decision", recordedBy: "dynamic:piet", withdrawnAt: t)),
            .noticeGiven(
                NoticeGiven(
                    receivedOn: CalendarDate("2027-02-10")!, channel: .letter, endDate: CalendarDate("2027-12-01")!, recordedBy: "dynamic:piet",
                    recordedAt: t)),
            .deviceEnrolled(
                DeviceEnrolled(deviceID: Fixtures.ws42, kind: .workstation, name: "WS-42", monitoredFrom: Fixtures.t0, enrolledBy: "token:connector", recordedAt: t)),
            .deviceEnrolled(DeviceEnrolled(deviceID: Fixtures.ws43, kind: .server, name: nil, monitoredFrom: t, enrolledBy: "token:connector", recordedAt: t)),
            .deviceOffboarded(DeviceOffboarded(deviceID: Fixtures.ws42, monitoredUntil: t, reason: "replaced", offboardedBy: "dynamic:piet", recordedAt: t)),
            .deviceOffboarded(DeviceOffboarded(deviceID: Fixtures.ws43, monitoredUntil: t, reason: nil, offboardedBy: "dynamic:piet", recordedAt: t)),
            .consentGranted(ConsentGranted(consent: Fixtures.consent, recordedBy: "dynamic:piet", recordedAt: t)),
            .openingThresholdsSet(
                OpeningThresholdsSet(
                    thresholds: [OpeningThreshold(source: .firewall, severity: .low)], reason: "tuning", setBy: "soc:anna", setAt: t)),
        ]
    }()

    @Test func theSamplesCoverEveryKnownEventType() {
        #expect(Set(Self.everyEvent.map(\.type)) == Set(EventCodec.knownTypes))
        #expect(EventCodec.knownTypes.count == 17 + 5 + 4 + 7 + 2 + 1 + 2 + 1 + 2)
    }

    @Test(arguments: everyEvent)
    func everyEventDecodesToWhatWasEncoded(event: DomainEvent) throws {
        let data = EventCodec.encode(event)
        let decoded = try EventCodec.decode(type: event.type, schemaVersion: event.schemaVersion, data: data)
        #expect(decoded == event)
        #expect(EventCodec.encode(decoded) == data, "encoding is stable: the same event gives the same bytes")
    }

    @Test func eventTypeNamesAreThePastTenseFactsStored() {
        #expect(EventCodec.knownTypes == [
            "ConsentGranted", "ConsentWithdrawn", "ContactsUpdated", "DeviceEnrolled",
            "DeviceIsolated", "DeviceIsolationFailed", "DeviceIsolationRequested", "DeviceOffboarded", "DeviceReleaseFailed", "DeviceReleaseRequested", "DeviceReleased",
            "EDRActionSubmitted", "FileQuarantineFailed", "FileQuarantineRequested", "FileQuarantined", "HandedOverToSoc", "HealthCheckRecorded",
            "IncidentAbsorbed", "IncidentAssigned", "IncidentConfirmed", "IncidentDismissed", "IncidentMerged", "IncidentNoteAdded", "IncidentOpened", "IncidentPriorityRaised", "IncidentResolved", "MonitoringActivated",
            "NoticeGiven", "NotificationAcknowledged", "NotificationAttemptFailed", "NotificationDelivered", "NotificationFailed", "OpeningThresholdsSet", "RollOutCompleted",
            "SignalAttached", "SignalIngested", "SignalUpdated", "SlaBreached", "SuppressionRuleAdded", "SuppressionRuleExpired", "TenantOnboarded",
        ])
        #expect(Self.everyEvent.allSatisfy { $0.schemaVersion == 1 })
    }

    @Test func storedEventsCarryTimesAsIsoWithMillisecondsAndSortedKeys() throws {
        let event = DomainEvent.incidentResolved(
            IncidentResolved(
                incidentID: Fixtures.incidentID(1), resolution: "reimaged", resolvedBy: "soc:anna",
                resolvedAt: Fixtures.time("2026-11-29T10:15:30.007Z")))
        let json = String(decoding: EventCodec.encode(event), as: UTF8.self)
        #expect(
            json == #"{"incidentID":"00000000-0000-0000-0000-000000001001","resolution":"reimaged","#
                + #""resolvedAt":"2026-11-29T10:15:30.007Z","resolvedBy":"soc:anna"}"#)
    }

    @Test func anUnknownEventTypeIsRefused() {
        #expect(throws: EventCodec.UnknownEvent.self) {
            try EventCodec.decode(type: "IncidentReopened", schemaVersion: 1, data: Data("{}".utf8))
        }
    }

    @Test func aSchemaVersionTheCodeDoesNotKnowIsRefused() {
        let data = EventCodec.encode(Fixtures.released())
        #expect(throws: EventCodec.UnknownEvent.self) { try EventCodec.decode(type: "DeviceReleased", schemaVersion: 2, data: data) }
    }

    @Test func aPayloadThatDoesNotMatchItsTypeIsRefused() {
        let data = EventCodec.encode(Fixtures.released())
        #expect(throws: DecodingError.self) { try EventCodec.decode(type: "IncidentOpened", schemaVersion: 1, data: data) }
    }

    @Test func aStoredInvalidTenantIdIsNotDecoded() throws {
        let event = DomainEvent.tenantOnboarded(TenantOnboarded(tenant: Fixtures.tenant()))
        let json = String(decoding: EventCodec.encode(event), as: UTF8.self).replacingOccurrences(of: "\"acme-bv\"", with: "\"ACME BV\"")
        #expect(throws: DecodingError.self) { try EventCodec.decode(type: "TenantOnboarded", schemaVersion: 1, data: Data(json.utf8)) }
    }

    // MARK: Timestamp

    @Test func timesAreWrittenInUtcWithMilliseconds() {
        #expect(Timestamp.format(Fixtures.t0) == "2026-11-29T10:15:30.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        #expect(Timestamp.format(Date(timeIntervalSinceReferenceDate: 0)) == "2001-01-01T00:00:00.000Z")
        #expect(Timestamp.format(Fixtures.time("2024-02-29T23:59:59.250Z")) == "2024-02-29T23:59:59.250Z")
    }

    @Test func timesAreRoundedToTheNearestMillisecondNotTruncated() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_947_330.999)) == "2026-11-29T10:15:30.999Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_947_330.007)) == "2026-11-29T10:15:30.007Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_947_330.9996)) == "2026-11-29T10:15:31.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_947_330.0004)) == "2026-11-29T10:15:30.000Z")
    }

    @Test(arguments: [
        "2026-11-29T10:15:30.000Z", "2026-11-29T10:15:30.001Z", "2026-11-29T10:15:30.007Z", "2026-11-29T10:15:30.123Z",
        "2026-11-29T10:15:30.500Z", "2026-11-29T10:15:30.998Z", "2026-11-29T10:15:30.999Z", "1999-12-31T23:59:59.999Z",
        "2024-02-29T00:00:00.001Z", "2100-03-01T12:00:00.010Z",
    ])
    func aWrittenTimeReadsBackToTheSameInstantAndText(text: String) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(Timestamp.format(date) == text)
        #expect(Timestamp.parse(Timestamp.format(date)) == date)
    }

    @Test func timesWithoutFractionalSecondsAreAccepted() {
        #expect(Timestamp.parse("2026-11-29T10:15:30Z") == Fixtures.t0)
    }

    @Test func fractionsOfAnyLengthAreAccepted() {
        #expect(Timestamp.parse("2026-11-29T10:15:30.5Z").map(Timestamp.format) == "2026-11-29T10:15:30.500Z")
        #expect(Timestamp.parse("2026-11-29T10:15:30.12Z").map(Timestamp.format) == "2026-11-29T10:15:30.120Z")
        // Graph security alerts carry seven digits.
        #expect(Timestamp.parse("2026-11-29T10:15:30.1234567Z").map(Timestamp.format) == "2026-11-29T10:15:30.123Z")
        #expect(Timestamp.parse("2026-11-29T10:15:30.123456789012Z").map(Timestamp.format) == "2026-11-29T10:15:30.123Z")
    }

    @Test(arguments: [
        ("2026-11-29T11:15:30+01:00", "2026-11-29T10:15:30.000Z"),
        ("2026-11-29T11:15:30.123+01:00", "2026-11-29T10:15:30.123Z"),
        ("2026-11-29T11:15:30+0100", "2026-11-29T10:15:30.000Z"),
        ("2026-11-29T11:15:30+01", "2026-11-29T10:15:30.000Z"),
        ("2026-11-29T04:45:30-05:30", "2026-11-29T10:15:30.000Z"),
        ("2026-11-29T10:15:30+00:00", "2026-11-29T10:15:30.000Z"),
        ("2026-11-29T10:15:30-00:00", "2026-11-29T10:15:30.000Z"),
        ("2026-11-30T00:15:30+14:00", "2026-11-29T10:15:30.000Z"),
        ("2026-03-29T01:30:00+01:00", "2026-03-29T00:30:00.000Z"),
        ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00.000Z"),
    ])
    func offsetsAreConvertedToUtc(text: String, utc: String) {
        #expect(Timestamp.parse(text).map(Timestamp.format) == utc)
    }

    @Test(arguments: [
        "", "garbage", "2026-11-29", "2026-11-29T10:15:30", "2026-11-29T10:15Z", "2026-11-29 10:15:30Z",
        "2026-11-29t10:15:30z", " 2026-11-29T10:15:30Z", "2026-11-29T10:15:30Z ", "2026-11-29T10:15:30Zjunk",
        "2026-11-29T10:15:30.Z", "2026-11-29T10:15:30,123Z", "2026-02-29T10:15:30Z", "2026-02-30T10:15:30Z",
        "2026-04-31T10:15:30Z", "2026-13-01T10:15:30Z", "2026-00-01T10:15:30Z", "2026-11-29T24:00:00Z",
        "2026-11-29T10:60:00Z", "2026-11-29T10:15:60Z", "2026-11-29T10:15:30+1:00", "2026-11-29T10:15:30+01:", "2026-11-29T10:15:30+25:00",
        "20261129T101530Z", "+2026-11-29T10:15:30Z", "2026-11-29T10:15:30.12a3Z",
    ])
    func malformedOrImpossibleTimesAreRefused(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test func theJsonDecoderRefusesATimeWithoutZone() {
        struct Probe: Decodable { var at: Date }
        #expect(throws: DecodingError.self) {
            try JSONCoding.decoder().decode(Probe.self, from: Data(#"{"at": "2026-11-29T10:15:30"}"#.utf8))
        }
    }

    @Test func theJsonEncoderWritesTimesAndSlashesPlainly() throws {
        struct Probe: Encodable { var url: String; var at: Date }
        let json = String(decoding: try JSONCoding.encoder().encode(Probe(url: "https://x/y", at: Fixtures.t0)), as: UTF8.self)
        #expect(json == #"{"at":"2026-11-29T10:15:30.000Z","url":"https://x/y"}"#)
    }
}
