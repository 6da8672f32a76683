import Foundation
import MDRDomain
import Synchronization

/// The in-process wake-up: appends bump a generation and wake every waiter at once. Subscribers read the
/// generation before they read the log, then wait for a later one, so no wake-up is lost between the two.
public final class AppendSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        /// Tenants appended to locally since the last NOTIFY was sent.
        var unannounced: [TenantID: Int64] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Called after a local append commits.
    public func appended(tenant: TenantID, position: Int64) {
        wake { $0.unannounced[tenant] = max($0.unannounced[tenant] ?? 0, position) }
    }

    /// Called when another instance announced appends (NOTIFY), or after (re)subscribing to them.
    public func remoteAppended() {
        wake { _ in }
    }

    private func wake(_ change: (inout State) -> Void) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            change(&s)
            s.generation &+= 1
            let all = Array(s.waiters.values)
            s.waiters.removeAll()
            return all
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Takes the tenants appended to since the last call (for the NOTIFY publisher).
    func takeUnannounced() -> [TenantID: Int64] {
        state.withLock { s in
            defer { s.unannounced.removeAll() }
            return s.unannounced
        }
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
