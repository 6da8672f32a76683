import Foundation
import MDRApplication
import MDRDomain
import MDRStore
import MDRTestSupport
import Testing

@testable import MDRNotify

/// The notifier follows the tenant's contacts: a route replaced after onboarding is the one notified.
@Suite("Notifier and updated contacts (PostgreSQL, loopback receivers)")
struct NotifierContactsTests {
    @Test func aP1AfterTheAfterHoursRouteWasReplacedReachesTheNewRouteOnly() async throws {
        let dynamic = WebhookReceiver(secrets: [dynamicSecret])
        let old = WebhookReceiver(secrets: [customerSecret]), new = WebhookReceiver(secrets: [customerSecret])
        try await withLoopbackReceiver(dynamic) { dynamicURL in
            try await withLoopbackReceiver(old) { oldURL in
                try await withLoopbackReceiver(new) { newURL in
                    try await TestDatabase.withDatabase { db, _ in
                        let h = NotifyHarness(db, dynamic: [ContactRoute(channel: .webhook, address: dynamicURL)])
                        try await h.endpoints.set(url: dynamicURL, secrets: [dynamicSecret.encoded])
                        try await h.endpoints.set(url: oldURL, secrets: [customerSecret.encoded])
                        try await h.endpoints.set(url: newURL, secrets: [customerSecret.encoded])
                        try await h.onboard(afterHours: ContactRoute(channel: .webhook, address: oldURL))
                        // The notifier has seen the onboarding before the contacts change.
                        try await h.notify()
                        _ = try await h.commands.updateContacts(
                            tenant: acme, primary: nil, afterHoursRoute: ContactRoute(channel: .webhook, address: newURL),
                            context: CommandContext(principal: Fixtures.dynamic))
                        _ = try await h.confirmedIncident(.p1)
                        #expect(try await h.deliver() == 2)
                        #expect(await new.received.count == 1)
                        #expect(await old.received.isEmpty)
                        #expect(await dynamic.received.count == 1)
                    }
                }
            }
        }
    }
}
