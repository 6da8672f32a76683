import Testing

@testable import MDRSyslog

@Suite struct LogRateLimiterTests {
    @Test func atMostTheLimitPerWindowAndTheNextOneSaysHowManyWereLeftOut() {
        let limiter = LogRateLimiter(limit: 2, window: .seconds(60))
        let t0 = ContinuousClock.now
        #expect(limiter.permit(now: t0) == (true, 0))
        #expect(limiter.permit(now: t0 + .seconds(1)) == (true, 0))
        #expect(limiter.permit(now: t0 + .seconds(2)) == (false, 0))
        #expect(limiter.permit(now: t0 + .seconds(3)) == (false, 0))
        #expect(limiter.permit(now: t0 + .seconds(61)) == (true, 2))
        #expect(limiter.permit(now: t0 + .seconds(62)) == (true, 0))
    }
}
