import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import MDRApplication
import Metrics
import Prometheus
import Synchronization

/// The instance's own metrics, through swift-metrics with swift-prometheus as the backend: one registry per
/// application (not the process-wide `MetricsSystem`, so that two applications in one process — the tests — keep
/// theirs apart). `/metrics` emits it after the gauges it computes from the database.
public final class ServiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    private let requests = Mutex<[RequestKey: RequestMetrics]>([:])
    private let ingest = Mutex<[IngestKey: CoreMetrics.Counter]>([:])
    private let rounds = Mutex<[String: (CoreMetrics.Timer, CoreMetrics.Counter)]>([:])

    /// Request durations from 1 ms to 10 s: the API answers in milliseconds, a slow batch in seconds.
    static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.durationBuckets
        self.factory = factory
    }

    /// The Prometheus text exposition of everything recorded.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    struct RequestKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    struct RequestMetrics: Sendable {
        let count: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
        let errors: CoreMetrics.Counter?
    }

    /// Records one answered request: its route template (never the raw path: ids would make a series per incident),
    /// method and status, and how long it took.
    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let key = RequestKey(route: route, method: method, status: status)
        let metrics = requests.withLock { cache in
            if let known = cache[key] { return known }
            let dimensions = [("route", route), ("method", method), ("status", String(status))]
            let made = RequestMetrics(
                count: CoreMetrics.Counter(label: "mdr_http_requests_total", dimensions: dimensions, factory: factory),
                duration: CoreMetrics.Timer(label: "mdr_http_request_duration_seconds", dimensions: dimensions, factory: factory),
                errors: status >= 500 ? CoreMetrics.Counter(label: "mdr_http_request_errors_total", dimensions: dimensions, factory: factory) : nil)
            cache[key] = made
            return made
        }
        metrics.count.increment()
        metrics.duration.recordNanoseconds(duration.nanoseconds)
        metrics.errors?.increment()
    }

    /// Records one round of the pipeline: its duration (by outcome) and the events it read.
    func recordRound(took: Duration, events: Int, failed: Bool) {
        let (timer, read) = rounds.withLock { cache in
            let outcome = failed ? "failed" : "completed"
            if let known = cache[outcome] { return known }
            let made = (
                CoreMetrics.Timer(label: "mdr_pipeline_round_duration_seconds", dimensions: [("outcome", outcome)], factory: factory),
                CoreMetrics.Counter(label: "mdr_pipeline_round_events_total", dimensions: [("outcome", outcome)], factory: factory)
            )
            cache[outcome] = made
            return made
        }
        timer.recordNanoseconds(took.nanoseconds)
        read.increment(by: events)
    }

    struct IngestKey: Hashable {
        var format: String
        var outcome: String
    }

    /// Counts a batch's signals by outcome (accepted, updated, duplicate, suppressed, rejected). A replayed answer
    /// counts nothing: its signals were counted when it was carried out.
    func recordIngest(format: String, _ outcome: CommandOutcome<IngestReport>) {
        guard !outcome.repeated else { return }
        let r = outcome.result
        for (name, count) in [
            ("accepted", r.accepted), ("updated", r.updated), ("duplicate", r.duplicates), ("suppressed", r.suppressed), ("rejected", r.rejected),
        ] where count > 0 {
            let key = IngestKey(format: format, outcome: name)
            let counter = ingest.withLock { cache in
                if let known = cache[key] { return known }
                let made = CoreMetrics.Counter(label: "mdr_ingest_signals_total", dimensions: [("format", format), ("outcome", name)], factory: factory)
                cache[key] = made
                return made
            }
            counter.increment(by: count)
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Records every request in `ServiceMetrics`: outermost but for the request log, so that it sees the status of every
/// answer, problems included. The route is the template the router matched; a request that matched none is `unmatched`.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let method = request.method.rawValue
        do {
            let response = try await next(request, context)
            metrics.recordRequest(
                route: Self.route(context, request), method: method, status: response.status.code, duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.recordRequest(route: Self.route(context, request), method: method, status: status, duration: ContinuousClock.now - start)
            throw error
        }
    }

    static func route(_ context: Context, _ request: Request) -> String {
        if let path = context.endpointPath { return path }
        // Served before the router matched (the Graph batch fast path, `SignalBatchMiddleware`).
        if SignalBatchRoute.route(request.uri.path) != nil { return "/v1/tenants/{tenantId}/signals/graph" }
        return "unmatched"
    }
}
