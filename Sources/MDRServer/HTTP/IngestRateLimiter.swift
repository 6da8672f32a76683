import Foundation
import HTTPTypes
import Hummingbird
import MDRApplication
import MDRDomain
import MDRResponse
import Synchronization

/// Per-token limits on the ingest endpoints: a token bucket (`RateLimiter`) per token id, in memory, per instance.
///
/// Why per token and in memory: one misbehaving connector (a retry loop, a replay of a month of alerts) must not
/// starve the others of the database; a limit shared between instances would need the database on every request,
/// which is what it protects. With N instances behind a balancer a token gets at most N times the rate.
/// The buckets are kept for every token that has ingested since start: their number is bounded by `api_tokens`.
final class IngestRateLimiter: Sendable {
    let limit: ServerConfiguration.IngestRateLimit
    private let time: any TimeSource
    private let buckets = Mutex<[String: RateLimiter]>([:])

    /// `time` is the clock the buckets refill by (tests bring their own).
    init(_ limit: ServerConfiguration.IngestRateLimit, time: any TimeSource = SystemTime()) {
        self.limit = limit
        self.time = time
    }

    /// Takes one request of `key`'s bucket: nil when it may go on, else the whole seconds (at least 1) until it may.
    func acquire(_ key: String) -> Int? {
        let at = time.now()
        let limit = self.limit
        let wait = buckets.withLock { buckets in
            var bucket =
                buckets[key] ?? RateLimiter(capacity: limit.burst, per: Double(limit.burst) / limit.requestsPerSecond)
            let wait = bucket.acquire(at: at)
            buckets[key] = bucket
            return wait
        }
        return wait.map { max(1, Int($0.rounded(.up))) }
    }

    /// Whether `request` is an ingest request: `POST /v1/tenants/{tenantId}/signals`, `…/signals/graph`,
    /// `…/signals/cef`, whichever route (generated or `SignalBatchMiddleware`) serves it.
    static func isIngest(_ request: Request) -> Bool {
        guard request.method == .post else { return false }
        let parts = request.uri.path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5 || parts.count == 6, parts[0].isEmpty, parts[1] == "v1", parts[2] == "tenants", parts[4] == "signals"
        else { return false }
        return parts.count == 5 || parts[5] == "graph" || parts[5] == "cef"
    }
}

/// Answers `429 rate_limited` with `Retry-After` to an ingest request whose token has used up its bucket. Runs after
/// authentication (the bucket is the principal's) and before the body is read, so a refused request costs nothing.
struct IngestRateLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limiter: IngestRateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if IngestRateLimiter.isIngest(request), let principal = RequestPrincipal.current, let wait = limiter.acquire(principal.id) {
            throw Problem.rateLimited(retryAfter: wait, limit: limiter.limit)
        }
        return try await next(request, context)
    }
}

/// Answers `503 ingest_backpressure` with `Retry-After` to an ingest request for a tenant whose log the pipeline is
/// more than the bound behind (`IngestAdmission`). Runs before the body is read: a refused batch costs nothing.
struct IngestAdmissionMiddleware<Context: RequestContext>: RouterMiddleware {
    let admission: IngestAdmission

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if IngestRateLimiter.isIngest(request), let tenant = Self.tenant(of: request), let wait = admission.retryAfter(tenant) {
            throw Problem.ingestBackpressure(retryAfter: wait, lag: admission.lag(tenant), bound: admission.bound)
        }
        return try await next(request, context)
    }

    /// The tenant of `/v1/tenants/{tenantId}/signals…`.
    static func tenant(of request: Request) -> TenantID? {
        let parts = request.uri.path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count >= 5 ? TenantID(rawValue: String(parts[3])) : nil
    }
}
