import MDRApplication
import Synchronization

/// What the syslog listener has done since it started, message by message.
public struct SyslogStatistics: Sendable, Equatable {
    /// Messages received (UDP datagrams and TCP frames), from any sender.
    public var received = 0
    /// Messages from an address no tenant has (`mdr syslog sender add`): dropped, never stored.
    public var unknownSender = 0
    /// Messages whose syslog header could not be read, or whose MSG is empty: dropped.
    public var unreadable = 0
    /// TCP framing errors (oversized or truncated messages): skipped.
    public var framingErrors = 0
    /// Lines ingested, by their outcome in the ingest report.
    public var accepted = 0
    public var duplicates = 0
    public var updated = 0
    public var suppressed = 0
    /// Lines the CEF parser rejected (logged with the reason).
    public var rejected = 0
    /// Lines lost because their batch could not be ingested (the database was unreachable after retries, or the
    /// tenant no longer exists).
    public var failed = 0
    /// UDP lines dropped because the pipeline was too far behind their tenant's log (admission control); TCP senders
    /// are slowed down instead.
    public var droppedUnderLoad = 0

    public init() {}

    /// Lines whose ingest has finished, whatever the outcome.
    public var ingested: Int { accepted + duplicates + updated + suppressed + rejected + failed }
}

/// The listener's counters, updated from its tasks; `/metrics` reads `snapshot`.
public final class SyslogCounters: Sendable {
    let value = Mutex(SyslogStatistics())

    public init() {}

    func update(_ body: (inout SyslogStatistics) -> Void) {
        value.withLock { body(&$0) }
    }

    func record(_ report: IngestReport) {
        value.withLock {
            $0.accepted += report.accepted
            $0.duplicates += report.duplicates
            $0.updated += report.updated
            $0.suppressed += report.suppressed
            $0.rejected += report.rejected
        }
    }

    public var snapshot: SyslogStatistics { value.withLock { $0 } }
}
