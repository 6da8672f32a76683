import Foundation
import Synchronization

/// Where the application gets "now" from: injected, so SLA clocks, expiry and retries are tested with a
/// controllable clock, never with sleeps.
public protocol TimeSource: Sendable {
    func now() -> Date
}

/// The real clock.
public struct SystemTime: TimeSource {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that moves only when told to (tests, replays).
public final class ManualTime: TimeSource {
    private let current: Mutex<Date>
    public init(_ start: Date) { current = Mutex(start) }
    public func now() -> Date { current.withLock { $0 } }
    public func set(_ date: Date) { current.withLock { $0 = date } }
    public func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
