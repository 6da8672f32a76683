import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// `ops/bench http`: the latency of a single-signal ingest command over HTTP at a fixed arrival rate (open loop:
/// requests are sent on schedule whether or not earlier ones have been answered, so slow answers are not hidden).
struct HTTPLatencyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http", abstract: "POST one native signal per request at a fixed rate to a running service and report latency.")

    @Option(help: "The service's base URL.") var url = "http://127.0.0.1:8080"
    @Option(help: "A bearer token that may ingest into the tenant (connector or soc).") var token: String
    @Option(help: "The tenant to ingest into (onboarded).") var tenant: String
    @Option(help: "Requests per second.") var rate = 200
    @Option(name: .customLong("seconds"), help: "Seconds to run (after a 2-second warm-up).") var duration = 20

    func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(30))))
        let endpoint = "\(url)/v1/tenants/\(tenant)/signals"
        let clock = ContinuousClock()
        let total = rate * (duration + 2)
        let warmup = rate * 2
        let interval = Duration.seconds(1) / rate
        let latencies = Shared<[Double]>([])
        let failures = Shared(0)
        let start = clock.now
        let runID = UUID().uuidString.prefix(8)
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<total {
                try? await clock.sleep(until: start.advanced(by: interval * i))
                group.addTask {
                    var request = HTTPClientRequest(url: endpoint)
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer \(token)")
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.headers.add(name: "Idempotency-Key", value: "bench-\(runID)-\(i)")
                    let body = """
                        {"signals":[{"source":"endpoint","sourceAlertId":"bench-\(runID)-\(i)","severity":"medium","status":"new",\
                        "title":"Suspicious PowerShell command line","observedAt":"2026-11-29T10:15:30Z",\
                        "entities":{"devices":["ws-\(i % 500)"],"users":["user\(i % 300)@example.nl"],"ips":["203.0.113.\(i % 250)"]},\
                        "mitreTechniques":["T1059.001"]}]}
                        """
                    request.body = .bytes(ByteBuffer(string: body))
                    let sent = clock.now
                    do {
                        let response = try await client.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        let ms = seconds(clock.now - sent) * 1000
                        if response.status == .ok {
                            if i >= warmup { latencies.withLock { $0.append(ms) } }
                        } else {
                            failures.withLock { $0 += 1 }
                        }
                    } catch {
                        failures.withLock { $0 += 1 }
                    }
                }
            }
        }
        try await client.shutdown()
        let p = Percentiles(latencies.withLock { $0 })
        let measured = latencies.withLock { $0.count }
        print(
            "http ingest: \(measured) requests at \(rate)/s, failures: \(failures.withLock { $0 }), latency p50: \(fmt(p.p(0.5), 1)) ms, p99: \(fmt(p.p(0.99), 1)) ms, max: \(fmt(p.p(1.0), 1)) ms"
        )
    }
}
