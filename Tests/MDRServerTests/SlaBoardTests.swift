import Foundation
import HTTPTypes
import HummingbirdTesting
import MDRApplication
import MDRDomain
import MDRProjections
import MDRServer
import MDRStore
import MDRTestSupport
import Synchronization
import Testing

/// The SLA board (`GET /board`) in a real browser: headless Chromium over loopback, driven by
/// `ops/lib/browser_check.mjs`. The page reads the compliance and the running timers with the token from the URL's
/// fragment, then follows the live feed (fetch, with the token in the header) and shows what happens.
@Suite struct SlaBoardTests {
    static let chromium = "/usr/bin/chromium"
    static let node = "/usr/bin/node"

    @Test func theBoardIsAStaticPageThatRunsOnlyItsOwnScript() async throws {
        try await APIWorld.run { api in
            let page = try await api.get("/board", token: nil)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            let policy = try #require(page.headers[HTTPField.Name("Content-Security-Policy")!])
            #expect(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'") && policy.contains("frame-ancestors 'none'"))
            // No data in the page itself: everything comes from the API with a token.
            #expect(page.text.contains("Authorization: `Bearer ${token}`") && !page.text.contains("acme-bv"))
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: chromium) && FileManager.default.isExecutableFile(atPath: node)))
    func inChromiumTheBoardShowsTheTimersAndFollowsTheFeed() async throws {
        try await APIWorld.run(.live, configure: { $0.streamPollInterval = .milliseconds(50) }) { api in
            let port = try #require(api.client.port)
            try await api.onboard("acme-bv")
            let soc = try await api.token(.soc)
            let incident = try await api.openIncident("acme-bv", device: "ws-0042", alert: "a-1")
            #expect(try await api.post("/v1/tenants/acme-bv/incidents/\(incident)/confirm", token: soc, ["priority": "P2", "summary": "credential theft"]).status == .ok)
            try await TenantPipeline(ReadModels.standard(), store: api.services.store, logger: TestDatabase.logger).drain()

            // The browser opens the board; meanwhile incidents keep opening and the SLA clock, a day ahead, keeps
            // breaching their timers, so that breaches happen after the page follows the feed (whenever that is on this
            // machine).
            let condition = """
                document.getElementById('state').dataset.state === 'live' && document.querySelectorAll('#timers tr').length > 0 \
                && document.querySelector('[data-sla="A"] [data-target="triage"]') !== null && document.querySelectorAll('#tenants tr').length > 0 \
                && [...document.querySelectorAll('#feed li')].some((li) => li.textContent.includes('SlaBreached')) \
                && document.querySelectorAll('#breaches tr').length > 0
                """
            let browser = Task.detached {
                try CommandLineRunner.run(
                    URL(fileURLWithPath: Self.node),
                    ["--experimental-websocket", CommandLineRunner.repositoryRoot.appendingPathComponent("ops/lib/browser_check.mjs").path,
                     "http://127.0.0.1:\(port)/board#token=\(soc)", condition, "90"]
                        // MDR_BOARD_SCREENSHOT=docs/sla-board.png keeps a picture of the board at the end (docs/api.md shows it).
                        + (ProcessInfo.processInfo.environment["MDR_BOARD_SCREENSHOT"].map { [$0] } ?? []))
            }
            let done = Atomic<Bool>(false)
            let traffic = Task {
                // Signals received a day ago (a connector catching up): their incidents' triage deadlines are long past,
                // and the SLA clock breaches them now.
                let dayAgo = CommandService(store: api.services.store, time: ManualTime(Date().addingTimeInterval(-86_400)))
                let clock = SlaClock(store: api.services.store, time: SystemTime(), logger: TestDatabase.logger)
                let context = CommandContext(principal: Fixtures.soc)
                var n = 2
                while !done.load(ordering: .relaxed) {
                    let batch = Fixtures.signalBatch([Fixtures.signal(alert: "late-\(n)", device: "ws-\(n)")])
                    _ = try? await dayAgo.ingestNativeSignals(tenant: TenantID(rawValue: "acme-bv")!, body: batch, context: context)
                    let consumers: [any LogConsumer] = [ProcessManager(CorrelationProcessor())] + ReadModels.standard()
                    try? await TenantPipeline(consumers, store: api.services.store, logger: TestDatabase.logger).drain()
                    _ = try? await clock.runOnce()
                    try? await TenantPipeline(ReadModels.standard(), store: api.services.store, logger: TestDatabase.logger).drain()
                    n += 1
                    try? await Task.sleep(for: .milliseconds(500))
                }
            }
            let (status, output) = try await browser.value
            done.store(true, ordering: .relaxed)
            await traffic.value
            // The driver's one line of JSON (Node's warnings share the output).
            let line = output.split(separator: "\n").last { $0.hasPrefix("{\"ok\"") }.map(String.init) ?? ""
            let result = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            #expect(status == 0, "\(output)")
            let text = result?["text"] as? String ?? ""
            #expect(text.contains("SLA A") && text.contains("SLA B") && text.contains("acme-bv"), "\(text)")
            #expect(text.contains("SlaBreached"), "the feed shows what happened: \(text)")
            #expect((result?["errors"] as? [Any])?.isEmpty == true, "no console errors: \(result?["errors"] ?? "-")")
            // The token was taken from the fragment and removed from the address.
            #expect((result?["location"] as? String)?.contains("token") == false)
        }
    }
}
