import AsyncHTTPClient
import Foundation
import MDRApplication
import MDRDomain
import MDRStore
import MDRTestSupport
import PostgresNIO
import Testing

@testable import MDRNotify

let acme = TenantID(rawValue: "acme")!
/// Sunday 2026-11-29 10:00 UTC (11:00 in Amsterdam): outside office hours.
let sunday = Timestamp.parse("2026-11-29T10:00:00Z")!
/// Tuesday 2026-12-01 09:00 UTC (10:00 in Amsterdam): within office hours.
let tuesday = Timestamp.parse("2026-12-01T09:00:00Z")!
let dynamicSecret = WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!
let customerSecret = WebhookSecret("whsec_dGVzdC1zZWNyZXQtZm9yLWN1c3RvbWVyLWhvb2s=")!

/// The notifier and a delivery worker over a real database, with real webhook receivers on loopback and a manual
/// clock: confirm an incident through the command service, plan (`notify()`), deliver (`deliver()`).
struct NotifyHarness {
    let database: Database
    let store: EventStore
    let commands: CommandService
    let time: ManualTime
    let correlator: TenantPipeline
    let notifier: TenantPipeline
    let worker: NotificationDeliveryWorker
    let outbox: NotificationOutbox
    let endpoints: WebhookEndpointStore

    init(_ database: Database, dynamic: [ContactRoute], retry: RetryPolicy = RetryPolicy(maxAttempts: 5, baseDelay: .seconds(1), maxDelay: .seconds(60)),
         smtp: SMTPConfiguration? = nil, start: Date = sunday) {
        self.database = database
        store = EventStore(database: database)
        time = ManualTime(start)
        commands = CommandService(store: store, time: time)
        correlator = TenantPipeline([ProcessManager(CorrelationProcessor())], store: store, logger: TestDatabase.logger)
        outbox = NotificationOutbox(database: database)
        endpoints = WebhookEndpointStore(database: database)
        let wake = Wakeup()
        notifier = TenantPipeline(
            [ProcessManager(Notifier(planner: NotificationPlanner(dynamic: dynamic, linkBase: "https://mdr.example"), outbox: outbox, wake: wake, time: time))],
            store: store, logger: TestDatabase.logger)
        worker = NotificationDeliveryWorker(
            outbox: outbox, endpoints: endpoints, store: store,
            webhook: WebhookChannel(client: .shared, timeout: .seconds(5)),
            email: smtp.map { SMTPChannel(configuration: $0) },
            configuration: .init(retry: retry, resend: ResendPolicy(after: .seconds(900), maxResends: 2), lease: .seconds(30), emailFrom: "mdr@soc.example"),
            time: time, wake: wake, logger: TestDatabase.logger)
    }

    func onboard(afterHours: ContactRoute, primaryEmail: String = "anna@acme.example") async throws {
        var command = Fixtures.onboard("acme", at: time.now())
        command.afterHoursRoute = afterHours
        command.primaryContact = Contact(name: "Anna de Vries", email: primaryEmail)
        _ = try await commands.onboardTenant(command, context: CommandContext(principal: Fixtures.dynamic))
    }

    /// Ingests a signal, lets the correlator open its incident, and confirms it.
    func confirmedIncident(_ priority: Priority, alert: String = "a-1", device: String = "ws-0042") async throws -> IncidentID {
        _ = try await commands.ingestNativeSignals(
            tenant: acme, body: Fixtures.signalBatch([Fixtures.signal(alert: alert, device: device, observedAt: Timestamp.format(time.now()))]),
            context: CommandContext(principal: Fixtures.soc))
        try await correlator.drain()
        var incident: IncidentID?
        for e in try await store.readLog(tenant: acme, after: 0, limit: 10_000, types: [IncidentOpened.eventType]) {
            if case .incidentOpened(let opened) = try e.decoded(), opened.devices == [DeviceID(rawValue: device)!] { incident = opened.incidentID }
        }
        let id = try #require(incident)
        _ = try await commands.confirmIncident(tenant: acme, incident: id, priority: priority, summary: "ransomware", context: CommandContext(principal: Fixtures.soc))
        return id
    }

    func notify() async throws { try await notifier.drain() }

    /// One delivery round after planning.
    @discardableResult
    func deliver() async throws -> Int {
        try await notify()
        return try await worker.runOnce()
    }

    func events() async throws -> [DomainEvent] {
        try await store.readLog(tenant: acme, after: 0, limit: 10_000).map { try $0.decoded() }
    }

    func delivered() async throws -> [NotificationDelivered] {
        try await events().compactMap { if case .notificationDelivered(let e) = $0 { e } else { nil } }
    }

    func attemptsFailed() async throws -> [NotificationAttemptFailed] {
        try await events().compactMap { if case .notificationAttemptFailed(let e) = $0 { e } else { nil } }
    }

    func failed() async throws -> [NotificationFailed] {
        try await events().compactMap { if case .notificationFailed(let e) = $0 { e } else { nil } }
    }

    func payloads(_ receiver: WebhookReceiver) async throws -> [NotificationPayload] {
        try await receiver.received.map { try NotificationPayload.decode($0.body) }
    }
}

@Suite("Notifier and delivery (PostgreSQL, loopback receivers)")
struct NotifierTests {
    @Test func aConfirmedP1ReachesDynamicAndTheAfterHoursWebhookSignedAndStopsTheNotifyTimer() async throws {
        let dynamic = WebhookReceiver(secrets: [dynamicSecret]), customer = WebhookReceiver(secrets: [customerSecret])
        try await withLoopbackReceiver(dynamic) { dynamicURL in
            try await withLoopbackReceiver(customer) { customerURL in
                try await TestDatabase.withDatabase { db, _ in
                    let h = NotifyHarness(db, dynamic: [ContactRoute(channel: .webhook, address: dynamicURL)])
                    try await h.endpoints.set(url: dynamicURL, secrets: [dynamicSecret.encoded])
                    try await h.endpoints.set(url: customerURL, secrets: [customerSecret.encoded])
                    try await h.onboard(afterHours: ContactRoute(channel: .webhook, address: customerURL))
                    let incident = try await h.confirmedIncident(.p1)
                    #expect(try await h.deliver() == 2)

                    for receiver in [dynamic, customer] {
                        let received = await receiver.received
                        #expect(received.count == 1)
                        #expect(received.first?.verification == nil)
                        let payload = try #require(try await h.payloads(receiver).first)
                        #expect(payload.type == "incident.confirmed")
                        #expect(payload.data.incidentID == incident)
                        #expect(payload.data.priority == .p1)
                        #expect(payload.data.notificationID == received.first?.id)
                        // Thin: the analyst's summary and the device's name are not in it.
                        let body = String(decoding: received.first!.body, as: UTF8.self)
                        #expect(!body.contains("ransomware") && !body.contains("ws-0042"))
                    }
                    let delivered = try await h.delivered()
                    #expect(Set(delivered.map(\.route.recipient)) == [.dynamic, .customerAfterHours])
                    #expect(delivered.allSatisfy { $0.attempt == 1 && $0.deliveredAt == sunday })
                    // Delivery to Dynamic is what stops the SLA's notify timer.
                    let facts = try await h.events().compactMap(SlaFact.from).filter { $0.incidentID == incident }.map(\.fact)
                    #expect(facts.contains(.dynamicNotified(at: sunday)))
                    // Nothing more to do; a second notifier round plans nothing again.
                    #expect(try await h.deliver() == 0)
                    #expect(await dynamic.received.count == 1)
                }
            }
        }
    }

    @Test func aReceiverThatIsDownGetsTheNotificationWhenItIsBackWithOneWebhookID() async throws {
        let dynamic = WebhookReceiver(secrets: [dynamicSecret])
        // A port nothing listens on yet: the customer's receiver is down.
        let port = try await closedPort()
        let customerURL = "http://127.0.0.1:\(port)/hook"
        try await withLoopbackReceiver(dynamic) { dynamicURL in
            try await TestDatabase.withDatabase { db, _ in
                let h = NotifyHarness(db, dynamic: [ContactRoute(channel: .webhook, address: dynamicURL)])
                try await h.endpoints.set(url: dynamicURL, secrets: [dynamicSecret.encoded])
                try await h.endpoints.set(url: customerURL, secrets: [customerSecret.encoded])
                try await h.onboard(afterHours: ContactRoute(channel: .webhook, address: customerURL))
                _ = try await h.confirmedIncident(.p1)
                try await h.deliver()
                h.time.advance(by: 61)
                try await h.deliver()
                let failures = try await h.attemptsFailed()
                #expect(failures.map(\.attempt) == [1, 2])
                #expect(failures.allSatisfy { $0.route.recipient == .customerAfterHours && ($0.reason.hasPrefix("unreachable") || $0.reason == "timeout") })
                #expect(try await h.delivered().map(\.route.recipient) == [.dynamic])

                // The receiver comes back (503 with Retry-After first, then 200).
                let customer = WebhookReceiver(secrets: [customerSecret], script: [.status(503, retryAfter: "120")])
                try await withLoopbackReceiver(customer, port: port) { _ in
                    h.time.advance(by: 61)
                    try await h.deliver()
                    // Retry-After is a floor: a minute later nothing is due yet, after two it is.
                    h.time.advance(by: 60)
                    #expect(try await h.deliver() == 0)
                    h.time.advance(by: 61)
                    #expect(try await h.deliver() == 1)
                }
                let received = await customer.received
                #expect(received.map(\.answered) == [503, 200])
                let failed = try await h.attemptsFailed()
                let delivered = try #require(try await h.delivered().first { $0.route.recipient == .customerAfterHours })
                #expect(delivered.attempt == 4)
                // One webhook-id however often it was tried.
                #expect(Set(received.compactMap(\.id)) == [delivered.notificationID])
                #expect(Set(failed.map(\.notificationID)) == [delivered.notificationID])
            }
        }
    }

    /// A customer's receiver that stays down: the notification is tried on Standard Webhooks' schedule for about a day,
    /// and Dynamic is told once, when the delivery becomes more than 15 minutes late, so that someone calls.
    @Test func aCustomerDeliveryThatIsLateIsReportedToDynamicOnceWhileItIsStillTried() async throws {
        let dynamic = WebhookReceiver(secrets: [dynamicSecret])
        let customerURL = "http://127.0.0.1:\(try await closedPort())/hook"
        try await withLoopbackReceiver(dynamic) { dynamicURL in
            try await TestDatabase.withDatabase { db, _ in
                let h = NotifyHarness(db, dynamic: [ContactRoute(channel: .webhook, address: dynamicURL)], retry: .notifications)
                try await h.endpoints.set(url: dynamicURL, secrets: [dynamicSecret.encoded])
                try await h.endpoints.set(url: customerURL, secrets: [customerSecret.encoded])
                try await h.onboard(afterHours: ContactRoute(channel: .webhook, address: customerURL))
                _ = try await h.confirmedIncident(.p1)
                // Attempts at about 0 s, 5 s and 5 min: the third is the one after which the next (in about 30 min) is late.
                // Each round twice: the attempt, then (planned from its event) whatever it makes the notifier send.
                for wait in [0, 6, 331, 1_981] {
                    h.time.advance(by: Double(wait))
                    try await h.deliver()
                    try await h.deliver()
                }
                let failures = try await h.attemptsFailed().filter { $0.route.recipient == .customerAfterHours }
                #expect(failures.map(\.attempt) == [1, 2, 3, 4])
                #expect(failures.map { $0.late == true } == [false, false, true, false])
                #expect(try await h.failed().isEmpty)
                let delayed = try await h.payloads(dynamic).filter { $0.type == "notification.delayed" }
                #expect(delayed.count == 1)
                #expect(delayed.first?.data.regarding == failures.first?.notificationID)
                #expect(delayed.first?.data.recipient == .customerAfterHours)
            }
        }
    }

    @Test func aWorkerKilledMidDeliveryLosesNothing() async throws {
        let dynamic = WebhookReceiver(secrets: [dynamicSecret])
        try await withLoopbackReceiver(dynamic) { dynamicURL in
            try await TestDatabase.withDatabase { db, _ in
                let h = NotifyHarness(db, dynamic: [ContactRoute(channel: .webhook, address: dynamicURL)])
                try await h.endpoints.set(url: dynamicURL, secrets: [dynamicSecret.encoded])
                try await h.onboard(afterHours: ContactRoute(channel: .phone, address: "+31 20 123 4567"))
                _ = try await h.confirmedIncident(.p2)
                try await h.notify()
                // A worker claims the entry and delivers, then dies before it records anything.
                let claimed = try await h.outbox.claimDue(now: h.time.now(), limit: 10, lease: .seconds(30))
                #expect(claimed.count == 1)
                let endpoint = try await h.endpoints.find(urls: [dynamicURL])[dynamicURL]
                #expect(await h.worker.attempt(claimed[0].entry, endpoint: endpoint) == .delivered)
                // Its claim holds others off until it runs out; then another worker delivers again, with the same id.
                #expect(try await h.worker.runOnce() == 0)
                h.time.advance(by: 31)
                #expect(try await h.worker.runOnce() == 1)
                let received = await dynamic.received
                #expect(received.count == 2)
                #expect(Set(received.compactMap(\.id)) == [claimed[0].entry.notificationID])
                // The dead worker's claim can no longer record its attempt.
                let recorded = try await db.client.withTransaction(logger: TestDatabase.logger) { connection in
                    try await h.outbox.settle(
                        claimed[0].entry.notificationID, leaseToken: claimed[0].leaseToken, attempts: 1, .delivered(at: h.time.now()), on: connection)
                }
                #expect(recorded == false)
                #expect(try await h.delivered().count == 1)
            }
        }
    }

    @Test func aRouteThatIsGoneFailsAndDynamicIsToldInstead() async throws {
        let dynamic = WebhookReceiver(secrets: [dynamicSecret])
        let customer = WebhookReceiver(secrets: [customerSecret], script: [.status(410)])
        try await withLoopbackReceiver(dynamic) { dynamicURL in
            try await withLoopbackReceiver(customer) { customerURL in
                try await TestDatabase.withDatabase { db, _ in
                    let h = NotifyHarness(db, dynamic: [ContactRoute(channel: .webhook, address: dynamicURL)])
                    try await h.endpoints.set(url: dynamicURL, secrets: [dynamicSecret.encoded])
                    try await h.endpoints.set(url: customerURL, secrets: [customerSecret.encoded])
                    try await h.onboard(afterHours: ContactRoute(channel: .webhook, address: customerURL))
                    let incident = try await h.confirmedIncident(.p1)
                    try await h.deliver()
                    let failure = try #require(try await h.failed().first)
                    #expect(failure.route.recipient == .customerAfterHours)
                    #expect(failure.reason.contains("410"))
                    #expect(try await h.endpoints.find(urls: [customerURL])[customerURL]?.disabledAt != nil)

                    // The notifier sees the failure and sends Dynamic a fallback notice.
                    try await h.deliver()
                    let notices = try await h.payloads(dynamic).filter { $0.type == "notification.failed" }
                    #expect(notices.count == 1)
                    #expect(notices.first?.data.regarding == failure.notificationID)
                    #expect(notices.first?.data.recipient == .customerAfterHours)
                    #expect(notices.first?.data.incidentID == incident)
                    // A disabled endpoint is not called again.
                    _ = try await h.confirmedIncident(.p1, alert: "a-2", device: "ws-0099")
                    try await h.deliver()
                    #expect(await customer.received.count == 1)
                    #expect(try await h.failed().count == 2)
                }
            }
        }
    }

    @Test func afterTheLastAttemptTheNotificationFailsAndARouteThatCannotBeUsedFallsBackToDynamic() async throws {
        let dynamic = WebhookReceiver(secrets: [dynamicSecret], script: [.status(500), .status(502)])
        try await withLoopbackReceiver(dynamic) { dynamicURL in
            try await TestDatabase.withDatabase { db, _ in
                let h = NotifyHarness(
                    db, dynamic: [ContactRoute(channel: .webhook, address: dynamicURL)],
                    retry: RetryPolicy(maxAttempts: 2, baseDelay: .seconds(1), maxDelay: .seconds(1)))
                try await h.endpoints.set(url: dynamicURL, secrets: [dynamicSecret.encoded])
                try await h.onboard(afterHours: ContactRoute(channel: .phone, address: "+31 20 123 4567"))
                // A P2 on Sunday: Dynamic at once, the customer's primary contact by e-mail on Monday morning.
                _ = try await h.confirmedIncident(.p2)
                try await h.deliver()
                h.time.advance(by: 2)
                try await h.deliver()
                let toDynamic = try #require(try await h.failed().first)
                #expect(toDynamic.route.recipient == .dynamic)
                #expect(toDynamic.attempts == 2)
                #expect(toDynamic.reason.contains("gave up after 2 attempts") && toDynamic.reason.contains("HTTP 502"))
                // Dynamic's own failure has nowhere further to go.
                try await h.deliver()
                #expect(await dynamic.received.count == 2)

                // Monday 08:00: no e-mail server is configured, so the customer's e-mail fails without an attempt …
                h.time.set(Timestamp.parse("2026-11-30T07:00:00Z")!)
                try await h.deliver()
                let toCustomer = try #require(try await h.failed().first { $0.route.recipient == .customerPrimary })
                #expect(toCustomer.attempts == 0)
                #expect(toCustomer.reason.contains("no e-mail server"))
                // … and Dynamic is told instead.
                try await h.deliver()
                let notices = try await h.payloads(dynamic).filter { $0.type == "notification.failed" }
                #expect(notices.map(\.data.regarding) == [toCustomer.notificationID])
                #expect(notices.first?.data.recipient == .customerPrimary)
            }
        }
    }

    @Test func anUnacknowledgedP1IsSentAgainUntilSomeoneAcknowledgesIt() async throws {
        let dynamic = WebhookReceiver(secrets: [dynamicSecret])
        try await withLoopbackReceiver(dynamic) { dynamicURL in
            try await TestDatabase.withDatabase { db, _ in
                let h = NotifyHarness(db, dynamic: [ContactRoute(channel: .webhook, address: dynamicURL)], start: tuesday)
                try await h.endpoints.set(url: dynamicURL, secrets: [dynamicSecret.encoded])
                // Within office hours the customer's primary contact gets e-mail; no e-mail server here: it fails.
                try await h.onboard(afterHours: ContactRoute(channel: .phone, address: "+31 20 123 4567"))
                _ = try await h.confirmedIncident(.p1)
                try await h.deliver()
                let first = try #require(try await h.delivered().first { $0.about.type == "incident.confirmed" })
                h.time.advance(by: 14 * 60)
                try await h.deliver()
                #expect(try await h.payloads(dynamic).filter { $0.type == "incident.confirmed" }.count == 1)

                // Fifteen minutes without an acknowledgement: sent again, as a new notification naming the first.
                h.time.advance(by: 61)
                try await h.deliver()
                let resent = try await h.payloads(dynamic).filter { $0.type == "incident.confirmed" }
                #expect(resent.map(\.data.notificationID) == [first.notificationID, first.notificationID + ".r1"])
                #expect(resent.last?.data.regarding == first.notificationID)

                // Acknowledged (on the resend): no further resends.
                let ack = try await h.commands.acknowledgeNotification(
                    tenant: acme, notification: first.notificationID + ".r1", context: CommandContext(principal: Fixtures.dynamic))
                #expect(ack.result.acknowledgedBy == Fixtures.dynamic.id)
                try await h.notify()
                h.time.advance(by: 3600)
                try await h.deliver()
                #expect(try await h.payloads(dynamic).filter { $0.type == "incident.confirmed" }.count == 2)
                let status = try #require(try await h.outbox.find(first.notificationID, tenant: acme))
                #expect(status.acknowledgedBy == Fixtures.dynamic.id)

                // Acknowledging twice keeps the first; a customer cannot acknowledge Dynamic's notices; unknown ids are 404.
                let again = try await h.commands.acknowledgeNotification(
                    tenant: acme, notification: first.notificationID, context: CommandContext(principal: Fixtures.soc))
                #expect(again.result.acknowledgedBy == Fixtures.dynamic.id)
                let customer = Principal(id: "token:c", name: "anna", role: .customer, tenant: acme)
                await #expect(throws: DomainError.self) {
                    _ = try await h.commands.acknowledgeNotification(tenant: acme, notification: first.notificationID, context: CommandContext(principal: customer))
                }
                await #expect(throws: DomainError.self) {
                    _ = try await h.commands.acknowledgeNotification(tenant: acme, notification: "ntf_nope", context: CommandContext(principal: Fixtures.soc))
                }
            }
        }
    }

    @Test func aP2ConfirmedOnSundayReachesTheCustomerOnMondayMorningAndAPhoneRouteBecomesACallRequest() async throws {
        let dynamic = WebhookReceiver(secrets: [dynamicSecret])
        try await withLoopbackReceiver(dynamic) { dynamicURL in
            try await withSMTPSink { sink in
                try await TestDatabase.withDatabase { db, _ in
                    let h = NotifyHarness(
                        db, dynamic: [ContactRoute(channel: .webhook, address: dynamicURL)],
                        smtp: SMTPConfiguration(host: "127.0.0.1", port: sink.port, heloName: "mdr.test", from: "mdr@soc.example", security: .none))
                    try await h.endpoints.set(url: dynamicURL, secrets: [dynamicSecret.encoded])
                    try await h.onboard(afterHours: ContactRoute(channel: .phone, address: "+31 20 123 4567"))
                    _ = try await h.confirmedIncident(.p2)
                    try await h.deliver()
                    #expect(try await h.payloads(dynamic).map(\.type) == ["incident.confirmed"])
                    #expect(try sink.received().isEmpty)
                    // Monday 30 November 08:00 in Amsterdam = 07:00 UTC.
                    h.time.set(Timestamp.parse("2026-11-30T06:59:59Z")!)
                    #expect(try await h.deliver() == 0)
                    h.time.set(Timestamp.parse("2026-11-30T07:00:00Z")!)
                    #expect(try await h.deliver() == 1)
                    let mail = try #require(try sink.received().first)
                    #expect(mail.rcpt_tos == ["anna@acme.example"])
                    #expect(try await h.delivered().contains { $0.route == NotificationRouteRecord(recipient: .customerPrimary, channel: .email, address: "anna@acme.example") })

                    // A P1 on Sunday with a phone after-hours route: Dynamic is asked to call the number.
                    h.time.set(sunday.addingTimeInterval(7 * 86_400))
                    _ = try await h.confirmedIncident(.p1, alert: "a-2", device: "ws-0099")
                    try await h.deliver()
                    let call = try #require(try await h.payloads(dynamic).first { $0.type == "call.requested" })
                    #expect(call.data.phone == "+31 20 123 4567")
                    #expect(call.data.priority == .p1)
                }
            }
        }
    }
}
