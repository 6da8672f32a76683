import Foundation
import MDRDemo
import Synchronization

/// The Defender these tests talk to: the simulator `mdr demo` runs (Sources/MDRDemo/DefenderSimulator.swift).
typealias FakeDefender = DefenderSimulator

/// A clock tests move by hand; `sleep` advances it instead of waiting and records what was asked.
final class ManualClock: Sendable {
    private let state = Mutex((now: Date(timeIntervalSince1970: 1_795_000_000), sleeps: [Duration]()))

    var now: Date { state.withLock { $0.now } }
    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    func advance(by seconds: TimeInterval) { state.withLock { $0.now += seconds } }

    func sleep(_ duration: Duration) {
        state.withLock {
            $0.sleeps.append(duration)
            $0.now += Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
    }
}
