import MDRNotify
import Testing

struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 6, baseDelay: .seconds(1), maxDelay: .seconds(8))

    @Test func ceilingDoublesUpToTheMaximum() {
        #expect((1...6).map { policy.ceiling(afterAttempt: $0) } == [1, 2, 4, 8, 8, 8].map { Duration.seconds($0) })
        let huge = RetryPolicy(maxAttempts: 200, baseDelay: .seconds(1), maxDelay: .seconds(3600))
        #expect(huge.ceiling(afterAttempt: 150) == .seconds(3600))
    }

    @Test func fullJitterStaysWithinTheCeilingAndSpreadsOverIt() {
        var generator = SplitMix64(seed: 1)
        var draws: [Duration] = []
        for _ in 0..<500 {
            let delay = policy.delay(afterAttempt: 4, using: &generator)!
            #expect(delay >= .zero && delay <= .seconds(8))
            draws.append(delay)
        }
        #expect(draws.min()! < .seconds(1))
        #expect(draws.max()! > .seconds(7))
    }

    @Test func sameSeedSameDelays() {
        func sequence(seed: UInt64) -> [Duration?] {
            var generator = SplitMix64(seed: seed)
            return (1...6).map { policy.delay(afterAttempt: $0, using: &generator) }
        }
        #expect(sequence(seed: 42) == sequence(seed: 42))
        #expect(sequence(seed: 42) != sequence(seed: 43))
    }

    @Test func noDelayAfterTheLastAttempt() {
        var generator = SplitMix64(seed: 3)
        #expect(policy.delay(afterAttempt: 5, using: &generator) != nil)
        #expect(policy.delay(afterAttempt: 6, using: &generator) == nil)
        var once = SplitMix64(seed: 3)
        #expect(RetryPolicy(maxAttempts: 0, baseDelay: .seconds(1), maxDelay: .seconds(1)).delay(afterAttempt: 1, using: &once) == nil)
    }

    @Test func aScheduleWaitsEachStepGiveOrTakeTenPercentThenGivesUp() {
        let schedule = RetryPolicy.notifications
        #expect(schedule.maxAttempts == 8)
        var generator = SplitMix64(seed: 9)
        for (attempt, step) in RetryPolicy.standardWebhooksSchedule.enumerated() {
            for _ in 0..<50 {
                let delay = schedule.delay(afterAttempt: attempt + 1, using: &generator)!
                #expect(delay >= step * 0.9 && delay <= step * 1.1, "after attempt \(attempt + 1): \(delay)")
            }
        }
        #expect(schedule.delay(afterAttempt: 8, using: &generator) == nil)
        // A receiver's Retry-After is still a floor.
        #expect(schedule.delay(afterAttempt: 1, retryAfter: .seconds(60), using: &generator) == .seconds(60))
        #expect(RetryPolicy.parseSchedule("5s,5m,30m,2h,5h,10h,10h") == RetryPolicy.standardWebhooksSchedule)
        #expect(RetryPolicy.parseSchedule("") == nil && RetryPolicy.parseSchedule("5") == nil && RetryPolicy.parseSchedule("-5s") == nil)
    }

    @Test func retryAfterIsAFloorEvenAboveTheMaximum() {
        var generator = SplitMix64(seed: 5)
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(30), using: &generator) == .seconds(30))
        for _ in 0..<50 {
            let delay = policy.delay(afterAttempt: 4, retryAfter: .seconds(3), using: &generator)!
            #expect(delay >= .seconds(3) && delay <= .seconds(8))
        }
    }
}
