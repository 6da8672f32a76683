import Foundation
import MDRDomain
import MDRStore
import Testing

@testable import MDRNotify

/// The planner: routes into outbox entries with thin payloads; phone routes become call requests; failures fall back
/// to Dynamic; ids are derived, so a replay plans the same entries. Pure: no database.
@Suite struct NotificationPlannerTests {
    static let dynamic = [
        ContactRoute(channel: .webhook, address: "https://soc-intake.dynamic.example/hooks/mdr"),
        ContactRoute(channel: .email, address: "soc@dynamic.example"),
        ContactRoute(channel: .phone, address: "+31 20 000 0000"),
    ]
    static let planner = NotificationPlanner(dynamic: dynamic, linkBase: "https://mdr.example/")
    static let incident = IncidentID(rawValue: UUID(uuidString: "7f1c2e3a-0000-4000-8000-000000000001")!)
    static let cause = NotificationCause(eventID: UUID(uuidString: "00000000-0000-4000-8000-0000000000aa")!, position: 42)

    static func tenant(afterHours: ContactRoute) -> Tenant {
        let command = OnboardTenant(
            tenantID: TenantID(rawValue: "acme")!, name: "Acme BV", package: .compliant, contractStart: CalendarDate("2026-01-01")!,
            primaryContact: Contact(name: "Anna", email: "anna@acme.example"), afterHoursRoute: afterHours,
            consent: InterventionConsent(grantedBy: "Anna", grantedOn: CalendarDate("2026-01-01")!), at: Date(timeIntervalSince1970: 0))
        return TenantDecider.fold(try! TenantDecider.decide(.onboard(command), nil))!
    }

    @Test func aP1OnSundayWithAPhoneRouteIsDynamicAtOnceAndACallRequestNamingTheNumber() throws {
        let tenant = Self.tenant(afterHours: ContactRoute(channel: .phone, address: "+31 6 1234 5678"))
        let sunday = Timestamp.parse("2026-11-29T10:00:00Z")!
        let entries = Self.planner.entries(for: .incidentConfirmed(Self.incident, .p1), occurredAt: sunday, tenant: tenant, cause: Self.cause)
        // Dynamic's phone route is not one the service can use; its webhook and e-mail are.
        #expect(entries.map(\.about.type) == ["incident.confirmed", "incident.confirmed", "call.requested", "call.requested"])
        #expect(entries.allSatisfy { $0.route.recipient == .dynamic && $0.route.channel != .phone && $0.sendAt == sunday })
        let call = try NotificationPayload.decode(entries[2].payload)
        #expect(call.data.phone == "+31 6 1234 5678")
        #expect(call.data.priority == .p1)
        #expect(call.data.links["incident"]?.absoluteString == "https://mdr.example/v1/tenants/acme/incidents/\(Self.incident)")
        // The id of every entry is in its payload, and stable across a replay.
        for entry in entries {
            #expect(entry.notificationID.hasPrefix("ntf_") && entry.notificationID.count == 36)
            #expect(try NotificationPayload.decode(entry.payload).data.notificationID == entry.notificationID)
            #expect(entry.causePosition == 42)
        }
        let replay = Self.planner.entries(for: .incidentConfirmed(Self.incident, .p1), occurredAt: sunday, tenant: tenant, cause: Self.cause)
        #expect(replay == entries)
        #expect(Set(entries.map(\.notificationID)).count == entries.count)
    }

    @Test func aP3IsNotNotifiedAndAnIsolationOutcomeReachesTheCustomerAtOnce() throws {
        let tenant = Self.tenant(afterHours: ContactRoute(channel: .webhook, address: "https://it.acme.example/hook"))
        let evening = Timestamp.parse("2026-12-01T19:00:00Z")!
        #expect(Self.planner.entries(for: .incidentConfirmed(Self.incident, .p3), occurredAt: evening, tenant: tenant, cause: Self.cause).isEmpty)
        let device = DeviceID(rawValue: "ws 0042")!
        let entries = Self.planner.entries(for: .isolation(device, .releaseFailed), occurredAt: evening, tenant: tenant, cause: Self.cause)
        #expect(entries.map(\.route.recipient) == [.dynamic, .dynamic, .customerAfterHours])
        let payload = try NotificationPayload.decode(entries[2].payload)
        #expect(payload.type == "isolation.release_failed")
        #expect(payload.data.links["device"]?.absoluteString == "https://mdr.example/v1/tenants/acme/devices/ws%200042")
    }

    @Test func aQuarantineRequestGoesToDynamicAndItsOutcomeToTheCustomerToo() throws {
        let tenant = Self.tenant(afterHours: ContactRoute(channel: .webhook, address: "https://it.acme.example/hook"))
        let evening = Timestamp.parse("2026-12-01T19:00:00Z")!
        let device = DeviceID(rawValue: "ws-0042")!
        let requested = Self.planner.entries(
            for: .fileQuarantine(device, Self.incident, .requested), occurredAt: evening, tenant: tenant, cause: Self.cause)
        #expect(requested.map(\.route.recipient) == [.dynamic, .dynamic])
        let done = Self.planner.entries(for: .fileQuarantine(device, Self.incident, .succeeded), occurredAt: evening, tenant: tenant, cause: Self.cause)
        #expect(done.map(\.route.recipient) == [.dynamic, .dynamic, .customerAfterHours])
        let payload = try NotificationPayload.decode(done[2].payload)
        #expect(payload.type == "quarantine.succeeded")
        #expect(payload.data.deviceID == device && payload.data.incidentID == Self.incident)
        // Thin: the file's hash is not in it.
        #expect(!String(decoding: done[2].payload, as: UTF8.self).contains("sha1"))
    }

    @Test func aFailedCustomerNotificationFallsBackToEachOfDynamicsRoutesButDynamicsOwnDoesNot() throws {
        let about = NotificationAbout(type: "incident.confirmed", incidentID: Self.incident, priority: .p2)
        let failed = NotificationFailed(
            notificationID: "ntf_x", about: about, route: NotificationRouteRecord(recipient: .customerPrimary, channel: .email, address: "anna@acme.example"),
            attempts: 10, reason: "gave up after 10 attempts; the last: SMTP 451 try later", failedAt: Date(timeIntervalSince1970: 1_800_000_000))
        let notices = Self.planner.fallback(for: failed, tenant: TenantID(rawValue: "acme")!, cause: Self.cause)
        #expect(notices.count == 2)
        let payload = try NotificationPayload.decode(notices[0].payload)
        #expect(payload.type == "notification.failed")
        #expect(payload.data.regarding == "ntf_x")
        #expect(payload.data.recipient == .customerPrimary)
        #expect(payload.data.reason?.contains("SMTP 451") == true)
        #expect(notices[0].about.type == "notification.failed" && notices[0].about.incidentID == Self.incident)

        var own = failed
        own.route = NotificationRouteRecord(recipient: .dynamic, channel: .webhook, address: "https://soc-intake.dynamic.example/hooks/mdr")
        #expect(Self.planner.fallback(for: own, tenant: TenantID(rawValue: "acme")!, cause: Self.cause).isEmpty)
    }

    @Test func aLateCustomerNotificationIsReportedToEachOfDynamicsRoutesButDynamicsOwnIsNot() throws {
        let about = NotificationAbout(type: "incident.confirmed", incidentID: Self.incident, priority: .p1)
        let attempt = NotificationAttemptFailed(
            notificationID: "ntf_y", about: about,
            route: NotificationRouteRecord(recipient: .customerAfterHours, channel: .webhook, address: "https://it.acme.example/hook"),
            attempt: 3, reason: "HTTP 502", attemptedAt: Date(timeIntervalSince1970: 1_800_000_000),
            nextAttemptAt: Date(timeIntervalSince1970: 1_800_001_800), late: true)
        let notices = Self.planner.delayed(for: attempt, tenant: TenantID(rawValue: "acme")!, cause: Self.cause)
        #expect(notices.count == 2)
        let payload = try NotificationPayload.decode(notices[0].payload)
        #expect(payload.type == "notification.delayed")
        #expect(payload.data.regarding == "ntf_y" && payload.data.recipient == .customerAfterHours)
        #expect(payload.data.reason == "HTTP 502; still trying, next at 2027-01-15T08:30:00.000Z")
        var own = attempt
        own.route = NotificationRouteRecord(recipient: .dynamic, channel: .webhook, address: "https://soc-intake.dynamic.example/hooks/mdr")
        #expect(Self.planner.delayed(for: own, tenant: TenantID(rawValue: "acme")!, cause: Self.cause).isEmpty)
    }

    /// Exactly one failed attempt of a late customer delivery is marked late, whatever the jitter, Retry-After or a
    /// worker that was down; never one to Dynamic's own route.
    @Test func exactlyOneAttemptOfALateDeliveryIsMarkedLate() {
        let due = Date(timeIntervalSince1970: 1_800_000_000)
        func entry(_ recipient: NotificationRecipient) -> OutboxEntry {
            OutboxEntry(
                notificationID: "ntf_z", tenant: TenantID(rawValue: "acme")!, causePosition: 1,
                about: NotificationAbout(type: "incident.confirmed", incidentID: Self.incident, priority: .p1),
                route: NotificationRouteRecord(recipient: recipient, channel: .webhook, address: "https://it.acme.example/hook"), payload: Data(),
                occurredAt: due, sendAt: due)
        }
        let bound: Duration = .seconds(900)
        var generator = SplitMix64(seed: 11)
        for start in [0.0, 2.0, 600.0, 1_200.0] {  // the first attempt on time, or after a worker was down
            var now = due.addingTimeInterval(start), marked: [Int] = []
            for attempt in 1..<RetryPolicy.notifications.maxAttempts {
                let delay = RetryPolicy.notifications.delay(afterAttempt: attempt, retryAfter: attempt == 2 ? .seconds(400) : nil, using: &generator)!
                let next = now.addingTimeInterval(Double(delay.components.seconds))
                if NotificationDeliveryWorker.becomesLate(entry(.customerAfterHours), attemptsBefore: attempt - 1, now: now, next: next, after: bound) {
                    marked.append(attempt)
                }
                #expect(!NotificationDeliveryWorker.becomesLate(entry(.dynamic), attemptsBefore: attempt - 1, now: now, next: next, after: bound))
                now = next
            }
            #expect(marked.count == 1, "first attempt at +\(start) s: marked \(marked)")
            #expect(marked == (start > 900 ? [1] : marked))
        }
    }

    @Test func aResendIsANewNotificationNamingTheFirst() throws {
        let tenant = Self.tenant(afterHours: ContactRoute(channel: .webhook, address: "https://it.acme.example/hook"))
        let original = try #require(
            Self.planner.entries(for: .incidentConfirmed(Self.incident, .p1), occurredAt: Date(timeIntervalSince1970: 1_800_000_000), tenant: tenant, cause: Self.cause).first)
        let first = NotificationPlanner.resend(of: original, number: 1)
        let second = NotificationPlanner.resend(of: first, number: 2)
        #expect(first.notificationID == original.notificationID + ".r1")
        #expect(second.notificationID == original.notificationID + ".r2")
        #expect(second.resendOf == original.notificationID)
        let payload = try NotificationPayload.decode(second.payload)
        #expect(payload.data.notificationID == second.notificationID)
        #expect(payload.data.regarding == original.notificationID)
    }

    @Test func settingsComeFromTheEnvironmentAndBadOnesAreRefusedByName() throws {
        let settings = try NotificationSettings.fromEnvironment(
            [
                "MDR_DYNAMIC_WEBHOOK_URL": "https://a.example/hook, https://b.example/hook", "MDR_DYNAMIC_EMAIL": "soc@dynamic.example",
                "MDR_DYNAMIC_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MDR_SMTP_HOST": "smtp.example", "MDR_SMTP_PORT": "587",
                "MDR_SMTP_SECURITY": "starttls", "MDR_P1_RESEND_AFTER_MINUTES": "5",
            ], defaultLinkBase: "http://127.0.0.1:8080")
        #expect(settings.dynamicRoutes.map(\.channel) == [.webhook, .webhook, .email])
        #expect(settings.smtp?.port == 587 && settings.smtp?.security == .startTLS)
        #expect(settings.resend.after == .seconds(300))
        #expect(settings.linkBase == "http://127.0.0.1:8080")
        // The default retries: Standard Webhooks' schedule, about 27.6 hours; late after 15 minutes.
        #expect(settings.retry == .notifications && settings.retry.maxAttempts == 8)
        #expect(settings.retry.span == .seconds(27 * 3600 + 35 * 60 + 5))
        #expect(settings.lateAfter == .seconds(900))
        let tuned = try NotificationSettings.fromEnvironment(
            ["MDR_NOTIFY_RETRY_SCHEDULE": "10s, 1m,1h", "MDR_NOTIFY_LATE_AFTER_MINUTES": "30"], defaultLinkBase: "http://x")
        #expect(tuned.retry.schedule == [.seconds(10), .seconds(60), .seconds(3600)] && tuned.retry.maxAttempts == 4)
        #expect(tuned.lateAfter == .seconds(1800))
        // MDR_NOTIFY_MAX_ATTEMPTS cuts the schedule.
        let capped = try NotificationSettings.fromEnvironment(["MDR_NOTIFY_MAX_ATTEMPTS": "3"], defaultLinkBase: "http://x")
        #expect(capped.retry.schedule == [.seconds(5), .seconds(300)] && capped.retry.maxAttempts == 3)
        for bad in [
            ["MDR_DYNAMIC_WEBHOOK_URL": "https://a.example/hook"],  // no secret
            ["MDR_DYNAMIC_WEBHOOK_URL": "ftp://a.example", "MDR_DYNAMIC_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            ["MDR_DYNAMIC_WEBHOOK_SECRET": "not-a-secret"],
            ["MDR_SMTP_HOST": "smtp.example", "MDR_SMTP_SECURITY": "tls"],
            ["MDR_NOTIFY_MAX_ATTEMPTS": "0"],
            ["MDR_NOTIFY_RETRY_SCHEDULE": "5s,soon"], ["MDR_NOTIFY_RETRY_SCHEDULE": "5d"], ["MDR_NOTIFY_RETRY_SCHEDULE": "0s"],
            ["MDR_NOTIFY_LATE_AFTER_MINUTES": "0"],
        ] {
            #expect(throws: NotificationSettings.Invalid.self) { try NotificationSettings.fromEnvironment(bad, defaultLinkBase: "http://x") }
        }
    }
}
