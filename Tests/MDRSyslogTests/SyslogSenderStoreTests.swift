import Foundation
import MDRDomain
import MDRStore
import MDRSyslog
import MDRTestSupport
import Testing

/// `mdr syslog sender add|list|remove` against the real table.
@Suite struct SyslogSenderStoreTests {
    @Test func addressesAreStoredCanonicallyOneTenantEach() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let store = SyslogSenderStore(database: db)
            let acme = TenantID(rawValue: "acme-bv")!
            let globex = TenantID(rawValue: "globex")!
            let a = try await store.add(address: " 192.0.2.10 ", tenant: acme, addedBy: "cli:test")
            #expect(a.address == "192.0.2.10")
            let b = try await store.add(address: "2001:DB8:0:0::10", tenant: globex, addedBy: "cli:test")
            #expect(b.address == "2001:db8::10")
            // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d: it is the IPv4 sender.
            #expect(SyslogSenderStore.canonicalAddress("::ffff:192.0.2.10") == "192.0.2.10")

            await #expect(throws: DomainError.self) { try await store.add(address: "192.0.2.10", tenant: globex, addedBy: "cli:test") }
            await #expect(throws: DomainError.self) { try await store.add(address: "fw01.acme.example", tenant: acme, addedBy: "cli:test") }
            await #expect(throws: DomainError.self) { try await store.add(address: "192.0.2.0/24", tenant: acme, addedBy: "cli:test") }

            let all = try await store.list()
            #expect(all.map(\.address) == ["192.0.2.10", "2001:db8::10"])
            #expect(all.map(\.tenant) == [acme, globex])
            #expect(try await store.list(tenant: globex).map(\.address) == ["2001:db8::10"])

            let removed = try await store.remove(address: "2001:db8::0010")
            #expect(removed.tenant == globex)
            await #expect(throws: DomainError.self) { try await store.remove(address: "2001:db8::10") }
            #expect(try await store.list().map(\.address) == ["192.0.2.10"])
        }
    }
}
