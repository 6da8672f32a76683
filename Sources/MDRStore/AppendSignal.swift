import Foundation
import MDRDomain
import Synchronization

/// A wake-up shared by tasks: `wake()` bumps a generation and resumes every waiter at once. A worker reads the
/// generation before it looks for work, then waits for a later one, so no wake-up is lost between the two.
public final class Wakeup: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Wakes every waiter (and makes the next `wait(after:)` of a generation read before this call return at once).
    public func wake() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.generation &+= 1
            let all = Array(s.waiters.values)
            s.waiters.removeAll()
            return all
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until the generation moves past `generation`, the timeout passes, or the task is cancelled.
    public func wait(after generation: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForGeneration(after: generation) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForGeneration(after generation: UInt64) async {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter &+= 1
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.generation != generation || Task.isCancelled { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

/// The in-process wake-up of the event log: every committed append names its tenant here. The pipeline learns from
/// it which tenants have new events without asking the database (`AppendListener`); the `AppendNotifier` relays
/// appends to other instances and theirs to this one.
public final class AppendSignal: Sendable {
    private struct State {
        /// Tenants appended to locally since the last NOTIFY was sent.
        var unannounced: [TenantID: Int64] = [:]
        /// Per listener: tenants appended to since it last looked, and whether another instance announced appends.
        var listeners: [UInt64: (tenants: Set<TenantID>, remote: Bool)] = [:]
        var nextListener: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Woken by every append, local or announced.
    public let wakeup = Wakeup()

    public init() {}

    public var generation: UInt64 { wakeup.generation }

    /// Called after a local append commits.
    public func appended(tenant: TenantID, position: Int64) {
        state.withLock { s in
            s.unannounced[tenant] = max(s.unannounced[tenant] ?? 0, position)
            for id in s.listeners.keys { s.listeners[id]!.tenants.insert(tenant) }
        }
        wakeup.wake()
    }

    /// Called when another instance announced appends (NOTIFY), or after (re)subscribing to them: which tenants is not
    /// known, so listeners must look.
    public func remoteAppended() {
        state.withLock { s in
            for id in s.listeners.keys { s.listeners[id]!.remote = true }
        }
        wakeup.wake()
    }

    /// Waits until an append after `generation`, the timeout, or cancellation.
    public func wait(after generation: UInt64, timeout: Duration) async {
        await wakeup.wait(after: generation, timeout: timeout)
    }

    /// Takes the tenants appended to since the last call (for the NOTIFY publisher).
    func takeUnannounced() -> [TenantID: Int64] {
        state.withLock { s in
            defer { s.unannounced.removeAll() }
            return s.unannounced
        }
    }

    /// A listener that collects the tenants appended to from now on. It remembers that another instance appended
    /// (`remote`) without knowing where; its owner then asks the database. Until the first `take()`, `remote` is true.
    public func makeListener() -> AppendListener {
        let id = state.withLock { s -> UInt64 in
            s.nextListener &+= 1
            s.listeners[s.nextListener] = ([], true)
            return s.nextListener
        }
        return AppendListener(signal: self, id: id)
    }

    fileprivate func take(_ id: UInt64) -> (tenants: Set<TenantID>, remote: Bool) {
        state.withLock { s in
            guard let pending = s.listeners[id] else { return ([], true) }
            s.listeners[id] = ([], false)
            return pending
        }
    }

    fileprivate func remove(_ id: UInt64) {
        _ = state.withLock { $0.listeners.removeValue(forKey: id) }
    }
}

/// The tenants appended to since the listener last looked (see `AppendSignal.makeListener()`).
public final class AppendListener: Sendable {
    let signal: AppendSignal
    let id: UInt64

    fileprivate init(signal: AppendSignal, id: UInt64) {
        self.signal = signal
        self.id = id
    }

    deinit { signal.remove(id) }

    /// The tenants appended to locally since the last call, and whether another instance announced appends meanwhile.
    public func take() -> (tenants: Set<TenantID>, remote: Bool) {
        signal.take(id)
    }
}
