import Logging
import MDRStore
import Synchronization
import Testing

/// The loop every background worker runs: failed rounds are retried and counted, a completed round is its heartbeat,
/// and a stall is seen by whoever reads the heartbeats (readiness, `/metrics`). No database: the rounds are closures.
@Suite("Round loop and worker health")
struct RoundLoopTests {
    struct Refused: Error {}

    /// A stopping service cancels its round; work that ignores cancellation (a query waiting for a connection to a
    /// database that is gone) is abandoned after the grace, so that it cannot hold the shutdown up.
    @Test func aCancelledCallerIsFreedAfterTheGraceEvenWhenItsWorkIgnoresCancellation() async throws {
        let (started, began) = AsyncStream.makeStream(of: Void.self)
        let caller = Task {
            try await withDeadline(.seconds(300), cancellationGrace: .milliseconds(100)) {
                began.yield()
                // Not cancelled with its caller: a detached task's value is awaited without passing cancellation on.
                await Task.detached { try? await Task.sleep(for: .seconds(120)) }.value
                return 1
            }
        }
        var iterator = started.makeAsyncIterator()
        await iterator.next()
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
    }

    /// Work that honours cancellation ends with its own outcome, not abandoned.
    @Test func aCancelledCallersWorkThatHonoursCancellationEndsWithItsOwnOutcome() async throws {
        struct Stopped: Error {}
        let (started, began) = AsyncStream.makeStream(of: Void.self)
        let caller = Task {
            try await withDeadline(.seconds(300), cancellationGrace: .seconds(120)) {
                began.yield()
                do { try await Task.sleep(for: .seconds(120)) } catch { throw Stopped() }
                return 1
            }
        }
        var iterator = started.makeAsyncIterator()
        await iterator.next()
        caller.cancel()
        await #expect(throws: Stopped.self) { try await caller.value }
    }

    @Test func failedRoundsAreCountedUntilOneCompletes() async throws {
        let health = WorkerHealth()
        let calls = Mutex(0)
        // Rounds 1–3 fail, round 4 completes and says it is idle; the test watches from round 5 on.
        let (rounds, reached) = AsyncStream.makeStream(of: Int.self)
        let loop = Task {
            await RoundLoop.run(
                wakeup: Wakeup(), pollInterval: .milliseconds(1), maximumBackoff: .milliseconds(1), health: health,
                logger: Logger(label: "test"), what: "worker"
            ) {
                let call = calls.withLock { $0 += 1; return $0 }
                if call <= 3 {
                    #expect(health.all.first?.failuresInARow == call - 1)
                    throw Refused()
                }
                reached.yield(call)
                // Never ends: a stuck round, as on a connection the server closed.
                if call == 5 { try await Task.sleep(for: .seconds(3600)) }
                return .idle
            }
        }
        var iterator = rounds.makeAsyncIterator()
        #expect(await iterator.next() == 4)
        #expect(await iterator.next() == 5)
        let beat = try #require(health.all.first)
        #expect(beat.worker == "worker" && beat.completedOnce && beat.failuresInARow == 0)
        // Round 5 hangs: it is not stalled yet, but it is once the bound has passed without a completed round.
        #expect(health.stalled(at: beat.lastRound + .seconds(119)).isEmpty)
        #expect(health.stalled(at: beat.lastRound + .seconds(121)).map(\.worker) == ["worker"])
        loop.cancel()
        await loop.value
        // A loop that ended is no longer watched.
        #expect(health.all.isEmpty)
    }

    @Test func aLoopThatNeverCompletesARoundStallsFromItsStart() {
        let health = WorkerHealth(stallBound: .seconds(10))
        let start = ContinuousClock.now
        health.started("pipeline", at: start)
        health.failedRound("pipeline")
        health.failedRound("pipeline")
        #expect(health.stalled(at: start + .seconds(5)).isEmpty)
        let stalled = health.stalled(at: start + .seconds(11))
        #expect(stalled.map(\.worker) == ["pipeline"])
        #expect(stalled.first?.failuresInARow == 2 && stalled.first?.completedOnce == false)
        health.completedRound("pipeline", at: start + .seconds(12))
        #expect(health.stalled(at: start + .seconds(13)).isEmpty)
    }
}
