import Foundation
import Logging
import MDRApplication
import MDRDetection
import MDRDomain
import MDRStore
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Where and how the syslog listener listens.
public struct SyslogListenerConfiguration: Sendable {
    /// The address to listen on (`MDR_SYSLOG_HOST`; `0.0.0.0` by default: firewalls send from the network).
    public var host: String
    /// The port for both UDP and TCP (`MDR_SYSLOG_PORT`); 0 picks a free one (tests), reported to `onListening`.
    public var port: Int
    /// The largest message accepted (a datagram, or a TCP frame); larger TCP frames are skipped with an error.
    public var maxMessageBytes: Int
    /// A tenant's batch is ingested when it holds this many lines…
    public var batchSize: Int
    /// …or when its first line is this old, whichever comes first.
    public var batchDelay: Duration
    /// How often the sender → tenant map is read again from `syslog_senders`.
    public var senderRefreshInterval: Duration

    public init(
        host: String = "0.0.0.0", port: Int, maxMessageBytes: Int = 64 * 1024, batchSize: Int = 500, batchDelay: Duration = .milliseconds(200),
        senderRefreshInterval: Duration = .seconds(15)
    ) {
        self.host = host
        self.port = port
        self.maxMessageBytes = maxMessageBytes
        self.batchSize = batchSize
        self.batchDelay = batchDelay
        self.senderRefreshInterval = senderRefreshInterval
    }
}

extension Principal {
    /// The syslog listener, ingesting for one tenant as that tenant's connector would.
    public static func syslogListener(tenant: TenantID) -> Principal {
        Principal(id: "system:syslog", name: "syslog listener", role: .connector, tenant: tenant)
    }
}

/// Receives syslog over UDP (one message per datagram) and TCP (RFC 6587 octet-counted or LF framing, detected per
/// message) on one port, maps each message's source address to its tenant (`syslog_senders`), and ingests the CEF
/// events in the MSG parts through `CommandService.ingestCEF`, batched per tenant.
///
/// Messages from unknown senders are dropped and counted, never stored. A rejected line is logged with its reason and
/// never loses the rest of its batch. A TCP connection is not read while the batch it filled is being ingested, so a
/// slow database slows the senders down instead of filling memory.
///
/// On graceful shutdown it stops accepting and reading, ingests the batches it holds, and returns.
public struct SyslogListener: Service {
    let configuration: SyslogListenerConfiguration
    let commands: CommandService
    let senders: SyslogSenderDirectory
    /// Admission control: while the pipeline is too far behind a tenant's log, a message over TCP waits before it joins
    /// a batch (the sender is not read meanwhile: TCP back-pressure) and a UDP datagram is dropped and counted
    /// (`droppedUnderLoad`).
    let admission: IngestAdmission?
    let logger: Logger
    let onListening: @Sendable (Int) -> Void
    let counters: SyslogCounters
    let unknownSenderLog = LogRateLimiter(limit: 10, window: .seconds(60))
    let badMessageLog = LogRateLimiter(limit: 20, window: .seconds(60))

    /// - Parameter counters: where it counts what it does (`/metrics` reads the same object).
    /// - Parameter onListening: called with the bound port once both sockets listen.
    public init(
        configuration: SyslogListenerConfiguration, commands: CommandService, database: Database, admission: IngestAdmission? = nil,
        counters: SyslogCounters = SyslogCounters(), logger: Logger, onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.counters = counters
        self.configuration = configuration
        self.commands = commands
        self.admission = admission
        self.senders = SyslogSenderDirectory(store: SyslogSenderStore(database: database))
        self.logger = logger
        self.onListening = onListening
    }

    /// What the listener has done so far.
    public var statistics: SyslogStatistics { counters.snapshot }

    /// Reads the sender → tenant map now (it is also read every `senderRefreshInterval`).
    public func reloadSenders() async throws { try await senders.reload() }

    public func run() async throws {
        let (tcp, udp) = try await bind()
        let port = tcp.channel.localAddress?.port ?? configuration.port
        do {
            try await reloadSenders()
        } catch {
            logger.error("syslog: cannot read the syslog senders; retrying", metadata: ["error": "\(String(reflecting: error))"])
        }
        logger.info("syslog listener started", metadata: ["address": "\(configuration.host):\(port)", "transports": "udp, tcp"])
        onListening(port)
        let batcher = SyslogBatcher(maxLines: configuration.batchSize, maxDelay: configuration.batchDelay)
        await withTaskGroup(of: Void.self) { background in
            background.addTask { await refreshSenders() }
            await withTaskGroup(of: Void.self) { flushing in
                flushing.addTask { await flush(batcher) }
                await withGracefulShutdownHandler {
                    await withDiscardingTaskGroup { inputs in
                        inputs.addTask { await receiveDatagrams(udp, batcher: batcher) }
                        inputs.addTask { await acceptConnections(tcp, batcher: batcher) }
                    }
                } onGracefulShutdown: {
                    tcp.channel.close(promise: nil)
                    udp.channel.close(promise: nil)
                }
                // No more input: the flusher ingests what is left, then ends.
                batcher.finish()
                await flushing.waitForAll()
            }
            background.cancelAll()
        }
        logger.info("syslog listener stopped")
    }

    // MARK: Sockets

    /// An accepted connection and its peer, read when it was accepted: a peer that already closed has no address later.
    struct TCPConnection: Sendable {
        var channel: NIOAsyncChannel<ByteBuffer, Never>
        var peer: SocketAddress?
    }

    typealias TCPServer = NIOAsyncChannel<TCPConnection, Never>
    typealias UDPSocket = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>

    /// Binds TCP, then UDP on the same port (with port 0, tries again with a new port if that UDP port is taken).
    func bind() async throws -> (TCPServer, UDPSocket) {
        let group = MultiThreadedEventLoopGroup.singleton
        let maxMessageBytes = configuration.maxMessageBytes
        var attempt = 0
        while true {
            attempt += 1
            let tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                // A fixed receive buffer (no autotuning up to tcp_rmem's maximum): what a connection can have in flight
                // while its batch is being ingested stays small, and the sender feels the back-pressure early.
                .childChannelOption(.socketOption(.so_rcvbuf), value: 256 * 1024)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        TCPConnection(
                            channel: try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: channel), peer: channel.remoteAddress)
                    }
                }
            let port = tcp.channel.localAddress?.port ?? configuration.port
            do {
                let udp = try await DatagramBootstrap(group: group)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    // A datagram larger than the receive buffer would be cut: make room for the largest message.
                    .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: maxMessageBytes))
                    .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
                    .bind(host: configuration.host, port: port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try UDPSocket(wrappingChannelSynchronously: channel)
                        }
                    }
                return (tcp, udp)
            } catch {
                try? await tcp.channel.close()
                if configuration.port != 0 || attempt >= 5 { throw error }
            }
        }
    }

    func receiveDatagrams(_ udp: UDPSocket, batcher: SyslogBatcher) async {
        do {
            try await udp.executeThenClose { inbound, _ in
                for try await datagram in inbound {
                    guard let address = SyslogSenderStore.canonicalAddress(datagram.remoteAddress) else { continue }
                    await handle(Array(datagram.data.readableBytesView), from: address, transport: .udp, batcher: batcher)
                }
            }
        } catch {
            logger.debug("syslog: UDP socket closed", metadata: ["error": "\(error)"])
        }
    }

    func acceptConnections(_ tcp: TCPServer, batcher: SyslogBatcher) async {
        do {
            try await tcp.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await read(connection, batcher: batcher) }
                    }
                }
            }
        } catch {
            logger.debug("syslog: TCP server socket closed", metadata: ["error": "\(error)"])
        }
    }

    /// Reads one TCP connection until the sender closes it, or until graceful shutdown closes it.
    func read(_ accepted: TCPConnection, batcher: SyslogBatcher) async {
        let connection = accepted.channel
        guard let peer = accepted.peer, let address = SyslogSenderStore.canonicalAddress(peer) else {
            try? await connection.channel.close()
            return
        }
        var decoder = SyslogFrameDecoder(maxMessageBytes: configuration.maxMessageBytes)
        do {
            try await connection.executeThenClose { inbound in
                try await withGracefulShutdownHandler {
                    for try await bytes in inbound {
                        decoder.append(bytes.readableBytesView)
                        while true {
                            do throws(SyslogFramingError) {
                                guard let frame = try decoder.next() else { break }
                                await handle(frame, from: address, transport: .tcp, batcher: batcher)
                            } catch {
                                noteFramingError(error, from: address)
                            }
                        }
                    }
                    do throws(SyslogFramingError) {
                        if let last = try decoder.finish() { await handle(last, from: address, transport: .tcp, batcher: batcher) }
                    } catch {
                        noteFramingError(error, from: address)
                    }
                } onGracefulShutdown: {
                    connection.channel.close(promise: nil)
                }
            }
        } catch {
            logger.debug("syslog: connection ended", metadata: ["sender": "\(address)", "error": "\(error)"])
        }
    }

    // MARK: Messages

    /// One message from `address`: drop it if the sender is unknown or it is unreadable, else add its MSG to the
    /// tenant's batch, and ingest the batch now if this filled it.
    func handle(_ frame: [UInt8], from address: String, transport: Transport, batcher: SyslogBatcher) async {
        guard let tenant = senders.tenant(for: address) else {
            counters.update {
                $0.received += 1
                $0.unknownSender += 1
            }
            let (allowed, left) = unknownSenderLog.permit()
            if allowed {
                logger.warning(
                    "syslog: dropped a message from an unknown sender (map it with: mdr syslog sender add ADDRESS --tenant T)",
                    metadata: ["sender": "\(address)", "dropped.unlogged": "\(left)"])
            }
            return
        }
        let message: SyslogMessage
        switch SyslogMessage.parse(frame, receivedAt: commands.time.now()) {
        case .success(let parsed): message = parsed
        case .failure(let error):
            noteUnreadable(error.description, from: address, tenant: tenant)
            return
        }
        // The whole message, header included (the CEF parser reads the header's time when the event has none), as one
        // line: a line end inside an octet-counted MSG must not split it.
        let line = String(decoding: frame, as: UTF8.self).replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "\r", with: " ")
        guard message.message.contains(where: { !$0.isWhitespace }) else {
            noteUnreadable("syslog_empty: the MSG part is empty", from: address, tenant: tenant)
            return
        }
        counters.update { $0.received += 1 }
        // Admitted (or held back) as it arrives, not when its batch is full: a batch may also leave by its delay.
        guard await admitted(line, tenant: tenant, transport: transport) else { return }
        if let full = batcher.add(line, tenant: tenant) { await ingest(full, tenant: tenant) }
    }

    /// How a message arrived.
    enum Transport {
        case tcp, udp
    }

    /// Whether a message may join its tenant's batch now. Over TCP it waits until the pipeline has caught up (the
    /// connection is not read meanwhile, so the sender slows down); over UDP there is no one to slow down: the datagram
    /// is dropped, counted and logged (rate-limited), never silently.
    func admitted(_ line: String, tenant: TenantID, transport: Transport) async -> Bool {
        guard let admission else { return true }
        while let wait = admission.retryAfter(tenant) {
            switch transport {
            case .udp:
                counters.update { $0.droppedUnderLoad += 1 }
                let (allowed, left) = badMessageLog.permit()
                if allowed {
                    logger.warning(
                        "syslog: dropped a UDP message: the pipeline is too far behind this tenant's log (send over TCP to be slowed down instead)",
                        metadata: ["tenant": "\(tenant)", "dropped.unlogged": "\(left)"])
                }
                return false
            case .tcp:
                if Task.isShuttingDownGracefully || Task.isCancelled { return true }
                try? await Task.sleep(for: .milliseconds(min(1000, 100 * wait)))
            }
        }
        return true
    }

    func noteUnreadable(_ reason: String, from address: String, tenant: TenantID) {
        counters.update {
            $0.received += 1
            $0.unreadable += 1
        }
        let (allowed, left) = badMessageLog.permit()
        if allowed {
            logger.warning(
                "syslog: dropped an unreadable message",
                metadata: ["sender": "\(address)", "tenant": "\(tenant)", "reason": "\(reason)", "dropped.unlogged": "\(left)"])
        }
    }

    func noteFramingError(_ error: SyslogFramingError, from address: String) {
        counters.update { $0.framingErrors += 1 }
        let (allowed, left) = badMessageLog.permit()
        if allowed {
            logger.warning("syslog: framing error", metadata: ["sender": "\(address)", "reason": "\(error)", "dropped.unlogged": "\(left)"])
        }
    }

    // MARK: Ingest

    /// Ingests batches that grew old, until the batcher is finished; then what is left.
    func flush(_ batcher: SyslogBatcher) async {
        for await _ in batcher.wakeups {
            while let deadline = batcher.nextDeadline(), !batcher.isFinished {
                // In steps of at most 50 ms, so that a shutdown does not wait for a long `batchDelay`. Not cancelled:
                // the batches held are ingested at shutdown.
                try? await Task.sleep(until: min(deadline, ContinuousClock.now.advanced(by: .milliseconds(50))), clock: .continuous)
                for (tenant, lines) in batcher.takeDue() { await ingest(lines, tenant: tenant) }
            }
        }
        for (tenant, lines) in batcher.takeAll() { await ingest(lines, tenant: tenant) }
    }

    /// Ingests one tenant's lines through the one ingest path. Retries a few times when the database fails; a
    /// refusal (the tenant no longer exists) loses the batch, logged. Rejected lines are logged with their reason —
    /// not their content, which may hold what the privacy rules keep out of storage.
    func ingest(_ lines: [String], tenant: TenantID) async {
        let batchID = UUID().uuidString.lowercased()
        let context = CommandContext(principal: .syslogListener(tenant: tenant), correlationID: "syslog:\(batchID)")
        let text = lines.joined(separator: "\n")
        var attempt = 0
        while true {
            attempt += 1
            do {
                let report = try await commands.ingestCEF(tenant: tenant, text: text, context: context).result
                counters.record(report)
                for item in report.items where item.outcome == .rejected {
                    let (allowed, left) = badMessageLog.permit()
                    guard allowed else { continue }
                    logger.warning(
                        "syslog: rejected a line",
                        metadata: [
                            "tenant": "\(tenant)", "batch": "\(batchID)", "line": "\(item.index)", "code": "\(item.code ?? "")",
                            "reason": "\(item.reason ?? "")", "dropped.unlogged": "\(left)",
                        ])
                }
                logger.debug(
                    "syslog: ingested a batch",
                    metadata: ["tenant": "\(tenant)", "batch": "\(batchID)", "lines": "\(lines.count)", "accepted": "\(report.accepted)"])
                return
            } catch let error as DomainError {
                counters.update { $0.failed += lines.count }
                logger.error(
                    "syslog: a batch was refused and is lost",
                    metadata: ["tenant": "\(tenant)", "batch": "\(batchID)", "lines": "\(lines.count)", "error": "\(error)"])
                return
            } catch {
                if attempt < 4 {
                    logger.warning(
                        "syslog: ingest failed; retrying",
                        metadata: ["tenant": "\(tenant)", "batch": "\(batchID)", "attempt": "\(attempt)", "error": "\(String(reflecting: error))"])
                    try? await Task.sleep(for: .milliseconds(250) * (1 << attempt))
                    continue
                }
                counters.update { $0.failed += lines.count }
                logger.error(
                    "syslog: ingest failed; the batch is lost",
                    metadata: ["tenant": "\(tenant)", "batch": "\(batchID)", "lines": "\(lines.count)", "error": "\(String(reflecting: error))"])
                return
            }
        }
    }

    /// Reads the sender map every `senderRefreshInterval` until shutdown.
    func refreshSenders() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: configuration.senderRefreshInterval) }
                try await reloadSenders()
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.error("syslog: cannot read the syslog senders; keeping the last map", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
