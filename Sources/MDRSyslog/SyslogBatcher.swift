import MDRDomain
import Synchronization

/// Collects CEF lines per tenant until a batch is full (`maxLines`) or its first line is `maxDelay` old.
///
/// A full batch is handed back to the caller that filled it, which ingests it before it reads on: that is the
/// back-pressure on a TCP connection (and on the UDP socket) when ingest is slow. Batches that grow old are taken by
/// the flusher, which `wakeups` wakes whenever a new batch opens.
final class SyslogBatcher: Sendable {
    struct Pending {
        var lines: [String]
        var openedAt: ContinuousClock.Instant
    }

    let maxLines: Int
    let maxDelay: Duration
    let pending = Mutex<[TenantID: Pending]>([:])
    let finished = Mutex(false)
    let wakeups: AsyncStream<Void>
    let wake: AsyncStream<Void>.Continuation

    init(maxLines: Int, maxDelay: Duration) {
        precondition(maxLines > 0)
        self.maxLines = maxLines
        self.maxDelay = maxDelay
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Adds a line to its tenant's batch; returns the batch when this line filled it (the caller ingests it now).
    func add(_ line: String, tenant: TenantID, now: ContinuousClock.Instant = .now) -> [String]? {
        let (full, opened) = pending.withLock { pending -> ([String]?, Bool) in
            var batch = pending[tenant] ?? Pending(lines: [], openedAt: now)
            let opened = batch.lines.isEmpty
            batch.lines.append(line)
            if batch.lines.count >= maxLines {
                pending[tenant] = nil
                return (batch.lines, false)
            }
            pending[tenant] = batch
            return (nil, opened)
        }
        if opened { wake.yield() }
        return full
    }

    /// When the oldest open batch is due; nil when none is open.
    func nextDeadline() -> ContinuousClock.Instant? {
        pending.withLock { $0.values.map(\.openedAt).min().map { $0.advanced(by: maxDelay) } }
    }

    /// Takes the batches whose first line is at least `maxDelay` old.
    func takeDue(now: ContinuousClock.Instant = .now) -> [(TenantID, [String])] {
        pending.withLock { pending in
            let due = pending.filter { $0.value.openedAt.advanced(by: maxDelay) <= now }
            for tenant in due.keys { pending[tenant] = nil }
            return due.map { ($0.key, $0.value.lines) }
        }
    }

    /// Takes every open batch (at shutdown).
    func takeAll() -> [(TenantID, [String])] {
        pending.withLock { pending in
            defer { pending = [:] }
            return pending.map { ($0.key, $0.value.lines) }
        }
    }

    /// No more lines will be added: the flusher's `wakeups` end.
    func finish() {
        finished.withLock { $0 = true }
        wake.finish()
    }

    /// Whether `finish()` was called.
    var isFinished: Bool { finished.withLock { $0 } }
}
