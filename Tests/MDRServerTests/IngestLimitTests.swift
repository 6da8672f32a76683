import Foundation
import HTTPTypes
import Hummingbird
import MDRApplication
import MDRDomain
import MDRProjections
@testable import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// The ingest limits: the most signals a batch may hold (`413 batch_too_large`) and the requests a token may send
/// (`429 rate_limited` with `Retry-After`). A refused request stores nothing.
@Suite struct IngestLimitTests {
    // MARK: Batch size

    @Test func aBatchOverTheLimitIsRefusedWith413InEveryFormatAndStoresNothing() async throws {
        try await APIWorld.run(configure: { $0.maxBatchSignals = 3 }) { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let head = try await api.head("acme-bv")
            let native = (1...4).map { Fixtures.signal(alert: "big-\($0)") }
            let refused = try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": native])
            expectProblem(refused, .contentTooLarge, "batch_too_large", "native")
            #expect(refused.json["detail"] as? String == "a batch holds at most 3 signals; this one holds 4: split it")
            let alerts = Array(GraphAndCEFIngestTests.graphAlerts[0...3])
            // The Graph JSON fast path (SignalBatchMiddleware) and NDJSON (the generated route).
            expectProblem(try await api.post("/v1/tenants/acme-bv/signals/graph", token: connector, alerts), .contentTooLarge, "batch_too_large")
            let ndjson = try alerts.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }.joined(separator: "\n")
            expectProblem(
                try await api.send(
                    .post, "/v1/tenants/acme-bv/signals/graph", token: connector, raw: Data(ndjson.utf8),
                    headers: [(.contentType, "application/x-ndjson")]), .contentTooLarge, "batch_too_large", "ndjson")
            let cef = (GraphAndCEFIngestTests.cefLines + [GraphAndCEFIngestTests.cefLines[0]]).joined(separator: "\n")
            expectProblem(try await api.sendCEF("acme-bv", cef, token: connector), .contentTooLarge, "batch_too_large", "cef")
            try await api.expectHead("acme-bv", head, "a refused batch stored something")

            // At the limit, the batch is taken.
            let taken = try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": Array(native[0...2])])
            #expect(taken.status == .ok, "\(taken.text)")
            #expect(taken.json["accepted"] as? Int == 3)
        }
    }

    @Test func theBatchLimitComesFromTheEnvironment() throws {
        #expect(try ServerConfiguration.maxBatchSignals([:]) == 5000)
        #expect(try ServerConfiguration.maxBatchSignals(["MDR_MAX_BATCH_SIGNALS": "200"]) == 200)
        #expect(throws: ServerConfiguration.InvalidSetting.self) { try ServerConfiguration.maxBatchSignals(["MDR_MAX_BATCH_SIGNALS": "0"]) }
        #expect(throws: ServerConfiguration.InvalidSetting.self) { try ServerConfiguration.maxBatchSignals(["MDR_MAX_BATCH_SIGNALS": "lots"]) }
    }

    // MARK: Rate per token

    @Test func theFortyFirstImmediateIngestRequestOfATokenIsRateLimitedAndStoresNothing() async throws {
        // Bursts of 40 as by default, refilled so slowly that no request of the test gets a new one.
        try await APIWorld.run(configure: { $0.ingestRateLimit = .init(requestsPerSecond: 0.01, burst: 40) }) { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let uri = "/v1/tenants/acme-bv/signals"
            for n in 1...40 {
                let reply = try await api.post(uri, token: connector, ["signals": [Fixtures.signal(alert: "burst-\(n)")]])
                #expect(reply.status == .ok, "request \(n): \(reply.text)")
            }
            let head = try await api.head("acme-bv")
            let limited = try await api.post(uri, token: connector, ["signals": [Fixtures.signal(alert: "burst-41")]])
            expectProblem(limited, .tooManyRequests, "rate_limited")
            let retryAfter = try #require(limited.headers[.retryAfter].flatMap { Int($0) }, "Retry-After: \(limited.headers)")
            #expect((1...100).contains(retryAfter))
            // Every ingest route is limited, the Graph JSON fast path too; other requests are not.
            expectProblem(
                try await api.post("/v1/tenants/acme-bv/signals/graph", token: connector, [GraphAndCEFIngestTests.graphAlerts[0]]), .tooManyRequests,
                "rate_limited", "graph")
            expectProblem(
                try await api.sendCEF("acme-bv", GraphAndCEFIngestTests.cefLines[0], token: connector), .tooManyRequests, "rate_limited", "cef")
            try await api.expectHead("acme-bv", head, "a rate-limited request stored something")

            // Another token of the same tenant has a bucket of its own.
            let other = try await api.token(.connector, "acme-bv")
            let taken = try await api.post(uri, token: other, ["signals": [Fixtures.signal(alert: "burst-41")]])
            #expect(taken.status == .ok, "\(taken.text)")
            #expect(try await api.head("acme-bv") > head)
        }
    }

    @Test func aBucketRefillsAtTheRateAndTellsHowLongToWait() {
        let clock = ManualTime(Date(timeIntervalSince1970: 1_795_000_000))
        let limiter = IngestRateLimiter(.standard, time: clock)
        for _ in 1...40 { #expect(limiter.acquire("token:a") == nil) }
        // 20 a second: the next request is 50 ms away, answered as one whole second.
        #expect(limiter.acquire("token:a") == 1)
        #expect(limiter.acquire("token:b") == nil)
        clock.advance(by: 0.06)
        #expect(limiter.acquire("token:a") == nil)
        #expect(limiter.acquire("token:a") == 1)
        clock.advance(by: 10)
        for _ in 1...40 { #expect(limiter.acquire("token:a") == nil) }
        #expect(limiter.acquire("token:a") != nil)

        let slow = IngestRateLimiter(.init(requestsPerSecond: 0.25, burst: 1), time: clock)
        #expect(slow.acquire("token:a") == nil)
        #expect(slow.acquire("token:a") == 4)
    }

    @Test func theRateComesFromTheEnvironment() throws {
        #expect(try ServerConfiguration.ingestRateLimit([:]) == .standard)
        #expect(ServerConfiguration.IngestRateLimit.standard == .init(requestsPerSecond: 20, burst: 40))
        #expect(try ServerConfiguration.ingestRateLimit(["MDR_INGEST_RATE_PER_TOKEN": "5"]) == .init(requestsPerSecond: 5, burst: 10))
        #expect(
            try ServerConfiguration.ingestRateLimit(["MDR_INGEST_RATE_PER_TOKEN": "5", "MDR_INGEST_BURST_PER_TOKEN": "100"])
                == .init(requestsPerSecond: 5, burst: 100))
        #expect(try ServerConfiguration.ingestRateLimit(["MDR_INGEST_RATE_PER_TOKEN": "0"]) == nil)
        #expect(throws: ServerConfiguration.InvalidSetting.self) { try ServerConfiguration.ingestRateLimit(["MDR_INGEST_RATE_PER_TOKEN": "-1"]) }
        #expect(throws: ServerConfiguration.InvalidSetting.self) { try ServerConfiguration.ingestRateLimit(["MDR_INGEST_BURST_PER_TOKEN": "0"]) }
    }

    @Test func onlyIngestRequestsCountAgainstTheRate() {
        func request(_ method: HTTPRequest.Method, _ path: String) -> Request {
            Request(head: HTTPRequest(method: method, scheme: "http", authority: "mdr", path: path), body: .init(buffer: .init()))
        }
        for path in ["/v1/tenants/acme-bv/signals", "/v1/tenants/acme-bv/signals/graph", "/v1/tenants/acme-bv/signals/cef"] {
            #expect(IngestRateLimiter.isIngest(request(.post, path)), "\(path)")
            #expect(!IngestRateLimiter.isIngest(request(.get, path)), "\(path)")
        }
        let others = [
            "/v1/tenants", "/v1/tenants/acme-bv/incidents/x/confirm", "/v1/tenants/acme-bv/signals/other", "/v1/tenants/acme-bv/signal-statistics",
        ]
        for path in others {
            #expect(!IngestRateLimiter.isIngest(request(.post, path)), "\(path)")
        }
    }
}

/// Admission control: while the pipeline is more than the bound behind a tenant's log, its ingest is refused with
/// `503 ingest_backpressure` and `Retry-After`, and nothing is stored; once the pipeline has caught up it is accepted
/// again. Other tenants are not held back.
@Suite struct IngestAdmissionTests {
    /// The consumers whose lag is watched, as `mdr serve` runs them (here without the notifier and the responder).
    static func pipeline(_ api: APIWorld) -> TenantPipeline {
        TenantPipeline([ProcessManager(CorrelationProcessor())] + ReadModels.standard(), store: api.services.store, logger: TestDatabase.logger)
    }

    @Test func ingestIsRefusedWhileThePipelineIsBehindAndAcceptedOnceItCaughtUp() async throws {
        // A bound of zero: any event not yet handled is too far behind (no waiting on the clock in the test).
        try await APIWorld.run(configure: {
            $0.ingestMaxLag = .zero
            $0.ingestLagSampleInterval = .milliseconds(20)
        }) { api in
            try await api.onboard("acme-bv")
            try await api.onboard("globex")
            try await Self.pipeline(api).drain()
            let connector = try await api.token(.connector, "acme-bv")
            // Caught up: accepted, once a sample taken after the drain has replaced one taken while the onboarding
            // events were not handled yet (samples run every 20 ms beside the test).
            var first = try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": [Fixtures.signal(alert: "bp-1")]])
            for _ in 0..<600 where first.status == .serviceUnavailable {
                expectProblem(first, .serviceUnavailable, "ingest_backpressure")
                try await Task.sleep(for: .milliseconds(50))
                first = try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": [Fixtures.signal(alert: "bp-1")]])
            }
            #expect(first.status == .ok, "\(first.text)")

            // The pipeline has not run: once the lag is sampled, acme's ingest is refused in every format.
            let head = try await api.head("acme-bv")
            var refused: Reply? = nil
            for attempt in 0..<600 where refused == nil {
                let reply = try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": [Fixtures.signal(alert: "bp-2-\(attempt)")]])
                if reply.status == .serviceUnavailable { refused = reply } else { try await Task.sleep(for: .milliseconds(50)) }
            }
            let reply = try #require(refused, "never refused")
            expectProblem(reply, .serviceUnavailable, "ingest_backpressure")
            #expect(Int(reply.headers[.retryAfter] ?? "") ?? 0 >= 1)
            let lateHead = try await api.head("acme-bv")
            expectProblem(
                try await api.post("/v1/tenants/acme-bv/signals/graph", token: connector, [GraphAndCEFIngestTests.graphAlerts[0]]),
                .serviceUnavailable, "ingest_backpressure")
            expectProblem(try await api.sendCEF("acme-bv", GraphAndCEFIngestTests.cefLines[0], token: connector), .serviceUnavailable, "ingest_backpressure")
            try await api.expectHead("acme-bv", lateHead, "a refused batch stored something")
            #expect(lateHead >= head)

            // Another tenant, caught up, is not held back.
            let globex = try await api.post(
                "/v1/tenants/globex/signals", token: try await api.token(.connector, "globex"), ["signals": [Fixtures.signal(alert: "g-1")]])
            #expect(globex.status == .ok, "\(globex.text)")

            // The pipeline catches up: accepted again once sampled.
            try await Self.pipeline(api).drain()
            var accepted = false
            for attempt in 0..<600 where !accepted {
                let reply = try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": [Fixtures.signal(alert: "bp-3-\(attempt)")]])
                accepted = reply.status == .ok
                if !accepted {
                    expectProblem(reply, .serviceUnavailable, "ingest_backpressure")
                    try await Self.pipeline(api).drain()
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(accepted)
        }
    }

    @Test func theBoundComesFromTheEnvironment() throws {
        #expect(try ServerConfiguration.ingestMaxLag([:]) == .seconds(1))
        #expect(try ServerConfiguration.ingestMaxLag(["MDR_INGEST_MAX_LAG_SECONDS": "2.5"]) == .milliseconds(2500))
        #expect(try ServerConfiguration.ingestMaxLag(["MDR_INGEST_MAX_LAG_SECONDS": "0"]) == nil)
        #expect(throws: ServerConfiguration.InvalidSetting.self) { try ServerConfiguration.ingestMaxLag(["MDR_INGEST_MAX_LAG_SECONDS": "-1"]) }
        #expect(throws: ServerConfiguration.InvalidSetting.self) { try ServerConfiguration.ingestMaxLag(["MDR_INGEST_MAX_LAG_SECONDS": "soon"]) }
    }
}
