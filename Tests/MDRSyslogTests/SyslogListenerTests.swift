import Foundation
import Logging
import MDRApplication
import MDRDomain
import MDRStore
import MDRSyslog
import MDRTestSupport
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Testing

let acme = TenantID(rawValue: "acme-bv")!
let globex = TenantID(rawValue: "globex")!

/// A CEF event as a firewall sends it, with its own alert id.
func cef(_ id: String, severity: String = "7", src: String = "10.0.0.42") -> String {
    "CEF:0|Palo Alto Networks|PAN-OS|10.1.0|THREAT|url|\(severity)|externalId=\(id) src=\(src) dst=203.0.113.66 request=http://evil.example/x?k=secret"
}

/// The listener over a fresh database, on 127.0.0.1 and a free port, run as a service under a `ServiceGroup`.
struct ListenerHarness: Sendable {
    let db: Database
    var config: DatabaseConfiguration? = nil
    let store: EventStore
    let listener: SyslogListener
    let port: Int

    /// Onboards `acme` and `globex`, maps `senders` (address → tenant), runs the listener, runs `body`, then shuts the
    /// listener down gracefully and waits until its `run()` returned.
    static func with(
        senders: [String: TenantID], batchSize: Int = 500, batchDelay: Duration = .milliseconds(50),
        admission: (@Sendable (Database) -> IngestAdmission)? = nil,
        _ body: @Sendable (ListenerHarness) async throws -> Void,
        afterShutdown: @Sendable (ListenerHarness) async throws -> Void = { _ in }
    ) async throws {
        try await TestDatabase.withDatabase { db, config in
            let store = EventStore(database: db)
            let commands = CommandService(store: store)
            for tenant in [acme, globex] {
                _ = try await commands.onboardTenant(Fixtures.onboard(tenant.rawValue), context: CommandContext(principal: Fixtures.dynamic))
            }
            let senderStore = SyslogSenderStore(database: db)
            for (address, tenant) in senders { _ = try await senderStore.add(address: address, tenant: tenant, addedBy: "test") }
            let (ports, announce) = AsyncStream.makeStream(of: Int.self)
            let listener = SyslogListener(
                configuration: SyslogListenerConfiguration(host: "127.0.0.1", port: 0, batchSize: batchSize, batchDelay: batchDelay), commands: commands,
                database: db, admission: admission?(db), logger: TestDatabase.logger, onListening: { announce.yield($0) })
            let group = ServiceGroup(configuration: .init(services: [listener], logger: TestDatabase.logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                guard let port = await iterator.next() else { throw CancellationError() }
                let harness = ListenerHarness(db: db, config: config, store: store, listener: listener, port: port)
                do {
                    try await body(harness)
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                try await afterShutdown(harness)
            }
        }
    }

    /// Waits until `condition` holds on the listener's statistics (polling). The limit is generous: the suite runs on a
    /// loaded two-core machine, and it only bounds a test that would otherwise wait for ever.
    func waitFor(_ what: String, _ condition: (SyslogStatistics) -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(90))
        while !condition(listener.statistics) {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what); statistics: \(listener.statistics)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The alert ids of a tenant's stored signals, and the actors that stored them.
    func storedAlerts(_ tenant: TenantID) async throws -> (ids: Set<String>, actors: Set<String>) {
        let events = try await store.readLog(tenant: tenant, after: 0, types: [SignalIngested.eventType])
        var ids = Set<String>()
        for event in events {
            if case .signalIngested(let ingested) = try event.decoded() { ids.insert(ingested.signal.sourceAlertID) }
        }
        return (ids, Set(events.map(\.metadata.actor)))
    }

    // MARK: Senders

    /// Sends each message as one UDP datagram from `source`.
    func sendUDP(_ messages: [String], from source: String = "127.0.0.1") async throws {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(to: try SocketAddress(ipAddress: source, port: 0)).get()
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        for message in messages {
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: message))).get()
        }
        try await channel.close()
    }

    /// Sends `bytes` over one TCP connection from `source`, in pieces of `chunk` bytes, then closes it.
    func sendTCP(_ bytes: String, from source: String = "127.0.0.1", chunk: Int = 4096) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(to: try SocketAddress(ipAddress: source, port: 0))
            .connect(host: "127.0.0.1", port: port).get()
        let all = Array(bytes.utf8)
        for start in stride(from: 0, to: all.count, by: chunk) {
            try await channel.writeAndFlush(ByteBuffer(bytes: all[start..<min(start + chunk, all.count)])).get()
        }
        try await channel.close()
    }
}

func octetCounted(_ messages: [String]) -> String {
    messages.map { "\($0.utf8.count) \($0)" }.joined()
}

/// The listener against the real database over loopback: what a firewall sends lands as signals of its tenant.
@Suite struct SyslogListenerTests {
    @Test func udpAndBothTCPFramingsFromAMappedSenderLandAsSignalsOfItsTenant() async throws {
        try await ListenerHarness.with(senders: ["127.0.0.1": acme]) { h in
            try await h.sendUDP(["<14>Nov 29 10:15:30 PA-VM \(cef("udp-1"))", "<189>\(cef("udp-2"))"])
            // LF framing, with CRLF and a trailing message without its line end; sent in small pieces.
            try await h.sendTCP(
                "<14>Nov 29 10:15:30 PA-VM \(cef("lf-1"))\r\n<14>Nov 29 10:15:31 PA-VM \(cef("lf-2"))\n<14>\(cef("lf-3"))", chunk: 7)
            // Octet counting, RFC 5424 (Check Point style), one MSG with a BOM.
            try await h.sendTCP(
                octetCounted([
                    "<134>1 2026-11-29T10:21:08Z cp-mgmt CheckPoint 2519 - - \(cef("oc-1"))",
                    "<134>1 2026-11-29T10:21:09Z cp-mgmt CheckPoint 2519 - [x@1 a=\"b\\]\"] \u{FEFF}\(cef("oc-2"))",
                ]), chunk: 13)
            try await h.waitFor("7 accepted lines") { $0.accepted == 7 }
            let stored = try await h.storedAlerts(acme)
            #expect(stored.ids == ["udp-1", "udp-2", "lf-1", "lf-2", "lf-3", "oc-1", "oc-2"])
            #expect(stored.actors == ["system:syslog"])
            #expect(try await h.storedAlerts(globex).ids.isEmpty)
            #expect(h.listener.statistics.rejected == 0 && h.listener.statistics.unknownSender == 0)
        }
    }

    /// A CEF event without a time of its own is placed at its syslog header's time (RFC 3164 or 5424), not at its
    /// arrival: a log a relay delivers late still lands in the window of its attack.
    @Test func anEventWithoutATimeOfItsOwnIsPlacedAtItsSyslogHeadersTime() async throws {
        try await ListenerHarness.with(senders: ["127.0.0.1": acme]) { h in
            try await h.sendUDP(["<14>Nov 29 09:05:00 PA-VM \(cef("bsd"))", "<134>1 2026-11-29T10:06:00.250+01:00 fw - - - - \(cef("iso"))"])
            try await h.waitFor("2 accepted lines") { $0.accepted == 2 }
            var observed: [String: Date] = [:]
            for event in try await h.store.readLog(tenant: acme, after: 0, types: [SignalIngested.eventType]) {
                if case .signalIngested(let ingested) = try event.decoded() { observed[ingested.signal.sourceAlertID] = ingested.signal.observedAt }
            }
            let year = Timestamp.format(Date()).prefix(4)
            #expect(observed["bsd"] == Timestamp.parse("\(year)-11-29T09:05:00Z") || observed["bsd"] == Timestamp.parse("\(Int(year)! - 1)-11-29T09:05:00Z"))
            #expect(observed["iso"] == Timestamp.parse("2026-11-29T09:06:00.250Z"))
        }
    }

    @Test func twoSendersMapToTwoTenants() async throws {
        try await ListenerHarness.with(senders: ["127.0.0.1": acme, "127.0.0.2": globex]) { h in
            try await h.sendUDP(["<14>\(cef("acme-udp"))"], from: "127.0.0.1")
            try await h.sendUDP(["<14>\(cef("globex-udp"))"], from: "127.0.0.2")
            try await h.sendTCP("<14>\(cef("acme-tcp"))\n", from: "127.0.0.1")
            try await h.sendTCP(octetCounted(["<14>\(cef("globex-tcp"))"]), from: "127.0.0.2")
            try await h.waitFor("4 accepted lines") { $0.accepted == 4 }
            #expect(try await h.storedAlerts(acme).ids == ["acme-udp", "acme-tcp"])
            #expect(try await h.storedAlerts(globex).ids == ["globex-udp", "globex-tcp"])
        }
    }

    @Test func messagesFromAnUnknownSenderAreCountedAndNotStored() async throws {
        try await ListenerHarness.with(senders: ["127.0.0.1": acme]) { h in
            try await h.sendUDP(["<14>\(cef("stranger-udp"))"], from: "127.0.0.3")
            try await h.sendTCP("<14>\(cef("stranger-tcp-1"))\n<14>\(cef("stranger-tcp-2"))\n", from: "127.0.0.3")
            try await h.sendTCP("<14>\(cef("known"))\n", from: "127.0.0.1")
            try await h.waitFor("3 dropped and 1 accepted") { $0.unknownSender == 3 && $0.accepted == 1 }
            #expect(try await h.storedAlerts(acme).ids == ["known"])
            #expect(try await h.storedAlerts(globex).ids.isEmpty)
        }
    }

    @Test func aSenderMappedOrRemovedWhileRunningCountsFromTheNextReload() async throws {
        try await ListenerHarness.with(senders: [:]) { h in
            try await h.sendUDP(["<14>\(cef("before"))"])
            try await h.waitFor("1 dropped") { $0.unknownSender == 1 }
            let senders = SyslogSenderStore(database: h.db)
            _ = try await senders.add(address: "127.0.0.1", tenant: acme, addedBy: "test")
            try await h.listener.reloadSenders()
            try await h.sendUDP(["<14>\(cef("after"))"])
            try await h.waitFor("1 accepted") { $0.accepted == 1 }
            try await senders.remove(address: "127.0.0.1")
            try await h.listener.reloadSenders()
            try await h.sendUDP(["<14>\(cef("removed"))"])
            try await h.waitFor("2 dropped") { $0.unknownSender == 2 }
            #expect(try await h.storedAlerts(acme).ids == ["after"])
        }
    }

    @Test func anOversizedTCPMessageIsSkippedAndTheConnectionGoesOn() async throws {
        try await ListenerHarness.with(senders: ["127.0.0.1": acme]) { h in
            let huge = "<14>\(cef("huge")) cs1=\(String(repeating: "z", count: 70_000))"
            try await h.sendTCP("<14>\(cef("small-1"))\n\(huge)\n" + octetCounted([huge, "<14>\(cef("small-2"))"]))
            try await h.waitFor("2 framing errors and 2 accepted") { $0.framingErrors == 2 && $0.accepted == 2 }
            #expect(try await h.storedAlerts(acme).ids == ["small-1", "small-2"])
        }
    }

    @Test func aBadLineAmongGoodOnesIsRejectedAlone() async throws {
        try await ListenerHarness.with(senders: ["127.0.0.1": acme], batchDelay: .seconds(1)) { h in
            let lines = [
                "<14>\(cef("good-1"))", "<14>\(cef("bad", severity: "Catastrophic"))", "<14>plain text, no CEF", "<14>\(cef("good-2"))",
            ]
            try await h.sendTCP(lines.joined(separator: "\n") + "\n")
            try await h.waitFor("4 ingested lines") { $0.ingested == 4 }
            let stats = h.listener.statistics
            #expect(stats.accepted == 2)
            #expect(stats.rejected == 2)
            #expect(try await h.storedAlerts(acme).ids == ["good-1", "good-2"])
        }
    }

    @Test func whileIngestIsBlockedTheConnectionIsNotReadOn() async throws {
        try await ListenerHarness.with(senders: ["127.0.0.1": acme], batchSize: 4) { h in
            // Another session holds the tenant's head row: every append of the tenant waits for it.
            let blocker = try await TestDatabase.connect(try #require(h.config), id: 9)
            try await blocker.query("BEGIN", logger: TestDatabase.logger)
            try await blocker.query("SELECT 1 FROM tenant_heads WHERE tenant_id = 'acme-bv' FOR UPDATE", logger: TestDatabase.logger)
            // 100 lines of ~30 KB (3 MB): more than the socket buffers (the listener's fixed 256 KB, the client's 64 KB,
            // each doubled by the kernel) and NIO's read-ahead (10 reads of at most 64 KB) hold together.
            let padding = String(repeating: "a", count: 30_000)
            let lines = (1...100).map { "<14>\(cef("bp-\($0)")) cs1=\(padding)\n" }
            let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.so_sndbuf), value: 64 * 1024)
                .connect(host: "127.0.0.1", port: h.port).get()
            var written: EventLoopFuture<Void>? = nil
            for line in lines { written = client.write(ByteBuffer(string: line)) }
            client.flush()
            let allWritten = try #require(written)
            let finishedWriting = Flag()
            allWritten.whenComplete { _ in finishedWriting.set() }
            // One batch taken by the reader that filled it, perhaps one more by the flusher; both wait for the lock.
            try await h.waitFor("the first full batch") { $0.received >= 4 }
            // A window in which an unbounded reader would have read all 3 MB (the one place this suite waits a fixed
            // time: what is checked is that something does not happen).
            try await Task.sleep(for: .seconds(1))
            #expect(h.listener.statistics.received <= 8)
            #expect(h.listener.statistics.ingested == 0)
            #expect(!finishedWriting.isSet)
            try await blocker.query("ROLLBACK", logger: TestDatabase.logger)
            try await allWritten.get()
            try await client.close()
            try await h.waitFor("all 100 lines") { $0.accepted == 100 }
            try await blocker.close()
        }
    }

    @Test func underBackpressureUDPMessagesAreDroppedAndCountedNeverSilently() async throws {
        // A bound of zero: any event the correlator has not handled yet puts the tenant over it.
        let admission = Mutex<IngestAdmission?>(nil)
        try await ListenerHarness.with(
            senders: ["127.0.0.1": acme], batchSize: 2,
            admission: { db in
                let made = IngestAdmission(bound: .zero, consumers: ["correlator"], database: db, logger: TestDatabase.logger)
                admission.withLock { $0 = made }
                return made
            }
        ) { h in
            let correlator = TenantPipeline([ProcessManager(CorrelationProcessor())], store: h.store, logger: TestDatabase.logger)
            try await correlator.drain()
            // A signal the correlator has not handled: acme is behind.
            _ = try await CommandService(store: h.store).ingestCEF(
                tenant: acme, text: cef("before"), context: CommandContext(principal: .syslogListener(tenant: acme)))
            let watcher = try #require(admission.withLock { $0 })
            try await watcher.refresh()
            #expect(watcher.retryAfter(acme) != nil)

            try await h.sendUDP(["<14>\(cef("udp-1"))", "<14>\(cef("udp-2"))"])
            try await h.waitFor("the dropped batch") { $0.droppedUnderLoad == 2 }
            #expect(h.listener.statistics.accepted == 0)
            #expect(try await h.storedAlerts(acme).ids == ["before"])

            // Caught up: the next batch is stored.
            try await correlator.drain()
            try await watcher.refresh()
            try await h.sendUDP(["<14>\(cef("udp-3"))", "<14>\(cef("udp-4"))"])
            try await h.waitFor("the next batch") { $0.accepted == 2 }
            #expect(try await h.storedAlerts(acme).ids == ["before", "udp-3", "udp-4"])
        }
    }

    @Test func gracefulShutdownIngestsTheBatchesItHolds() async throws {
        // A batch delay far longer than the test: only the shutdown can flush these lines.
        try await ListenerHarness.with(senders: ["127.0.0.1": acme], batchDelay: .seconds(600)) { h in
            try await h.sendUDP(["<14>\(cef("held-1"))", "<14>\(cef("held-2"))"])
            try await h.waitFor("2 received lines") { $0.received == 2 }
            #expect(h.listener.statistics.ingested == 0)
            #expect(try await h.storedAlerts(acme).ids.isEmpty)
        } afterShutdown: { h in
            let stored = try await h.storedAlerts(acme)
            #expect(h.listener.statistics.accepted == 2)
            #expect(stored.ids == ["held-1", "held-2"])
        }
    }

    @Test func aFullBatchIsIngestedWithoutWaitingForTheDelay() async throws {
        try await TestDatabase.withDatabase { db, _ in
            let commands = CommandService(store: EventStore(database: db))
            _ = try await commands.onboardTenant(Fixtures.onboard(acme.rawValue), context: CommandContext(principal: Fixtures.dynamic))
            _ = try await SyslogSenderStore(database: db).add(address: "127.0.0.1", tenant: acme, addedBy: "test")
            let (ports, announce) = AsyncStream.makeStream(of: Int.self)
            let listener = SyslogListener(
                configuration: SyslogListenerConfiguration(host: "127.0.0.1", port: 0, batchSize: 3, batchDelay: .seconds(600)),
                commands: commands, database: db, logger: TestDatabase.logger, onListening: { announce.yield($0) })
            let group = ServiceGroup(configuration: .init(services: [listener], logger: TestDatabase.logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                let h = ListenerHarness(db: db, store: EventStore(database: db), listener: listener, port: port)
                try await h.sendTCP((1...7).map { "<14>\(cef("n\($0)"))" }.joined(separator: "\n") + "\n")
                try await h.waitFor("two full batches") { $0.accepted == 6 }
                #expect(listener.statistics.received == 7)
                #expect(try await h.storedAlerts(acme).ids.count == 6)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }
}


/// Set once from an event-loop callback, read from the test.
final class Flag: Sendable {
    let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
