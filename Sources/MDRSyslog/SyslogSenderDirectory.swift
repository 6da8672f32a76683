import Logging
import MDRDomain
import Synchronization

/// The listener's in-memory copy of `syslog_senders`: a lookup per message without a query, so a flood from an
/// unknown address costs no database work. Reloaded by the listener every `senderRefreshInterval`.
public final class SyslogSenderDirectory: Sendable {
    let store: SyslogSenderStore
    let tenants = Mutex<[String: TenantID]>([:])

    public init(store: SyslogSenderStore) {
        self.store = store
    }

    /// The tenant of a canonical address (`SyslogSenderStore.canonicalAddress`), or nil for an unknown sender.
    public func tenant(for address: String) -> TenantID? {
        tenants.withLock { $0[address] }
    }

    /// Reads the table again and replaces the copy; returns the number of senders.
    @discardableResult
    public func reload() async throws -> Int {
        let senders = try await store.list()
        let map = Dictionary(senders.map { ($0.address, $0.tenant) }, uniquingKeysWith: { first, _ in first })
        tenants.withLock { $0 = map }
        return map.count
    }
}
