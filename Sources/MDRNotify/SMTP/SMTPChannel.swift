import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The e-mail channel: hands one message to an SMTP server per ``deliver(_:)`` call and classifies the outcome.
///
/// One connection per message (a pool of connections is a later improvement). The whole attempt — connecting, the
/// dialogue (``SMTPDialogue``) and `QUIT` — has one deadline, ``SMTPConfiguration/timeout``. The message is rendered
/// and checked (``SMTPMessageRenderer``) before connecting, so an invalid header never reaches a server.
public struct SMTPChannel: Sendable {
    /// Where and how to send.
    public var configuration: SMTPConfiguration
    /// The event loops for the connections.
    public var eventLoopGroup: any EventLoopGroup

    /// A channel for `configuration`.
    public init(configuration: SMTPConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
    }

    /// Makes one attempt to hand `message` over and classifies the outcome. Never throws: every failure is an
    /// outcome (a cancelled task yields `.failed`).
    public func deliver(_ message: EmailMessage) async -> SMTPOutcome {
        let data: [UInt8]
        do {
            let rendered = try SMTPMessageRenderer.render(message, defaultFrom: configuration.from, date: Date())
            data = SMTPMessageRenderer.dataSection(rendered)
        } catch {
            return .rejected(code: 0, reply: error.description)
        }
        let tls: NIOSSLContext?
        do {
            tls = configuration.security == .none ? nil : try makeTLSContext()
        } catch {
            return .failed("TLS configuration: \(error)")
        }
        let dialogue = SMTPDialogue(
            heloName: configuration.heloName, sender: configuration.from, recipients: message.to, data: data,
            security: configuration.security, credentials: configuration.credentials,
            allowsAuthenticationWithoutTLS: configuration.allowsAuthenticationWithoutTLS)
        let progress = Progress()
        let timeout = configuration.timeout
        return await withTaskGroup(of: SMTPOutcome.self) { group in
            group.addTask { await attempt(dialogue, tls: tls, progress: progress) }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .failed("timeout after \(timeout) \(progress.stage)")
                } catch {
                    return .failed("cancelled")
                }
            }
            let first = await group.next() ?? .failed("cancelled")
            // The attempt closes its connection when cancelled, so this returns promptly.
            group.cancelAll()
            return first
        }
    }

    /// Connects and runs the dialogue until it ends; closes the connection when cancelled.
    private func attempt(_ initial: SMTPDialogue, tls: NIOSSLContext?, progress: Progress) async -> SMTPOutcome {
        let address = "\(configuration.host):\(configuration.port)"
        progress.stage = "connecting to \(address)"
        let connection: NIOAsyncChannel<SMTPReply, ByteBuffer>
        do {
            connection = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(.nanoseconds(RetryPolicy.nanoseconds(configuration.timeout)))
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            return .failed("cannot connect to \(address): \(error)")
        }
        let channel = connection.channel
        let serverHostname = Self.isIPAddress(configuration.host) ? nil : configuration.host
        return await withTaskCancellationHandler {
            var dialogue = initial
            do {
                return try await connection.executeThenClose { inbound, outbound in
                    var replies = inbound.makeAsyncIterator()
                    while true {
                        progress.stage = dialogue.stage
                        guard let reply = try await replies.next() else {
                            return .failed("\(address) closed the connection \(dialogue.stage)")
                        }
                        var action = dialogue.receive(reply)
                        if case .startTLS = action {
                            guard let tls else { return .failed("STARTTLS without a TLS context") }
                            try await channel.eventLoop.submit {
                                let handler = try NIOSSLClientHandler(context: tls, serverHostname: serverHostname)
                                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
                            }.get()
                            // Writes wait in the TLS handler until the handshake is done; a failed handshake ends
                            // the inbound stream with its error.
                            action = dialogue.tlsEstablished()
                        }
                        switch action {
                        case .send(let line):
                            try await outbound.write(ByteBuffer(string: line + "\r\n"))
                        case .sendData(let bytes):
                            try await outbound.write(ByteBuffer(bytes: bytes))
                        case .quit(let outcome):
                            // Not waiting for QUIT's reply: the outcome is settled, and a slow reply must not turn
                            // a delivered message into a timeout.
                            try? await outbound.write(ByteBuffer(string: "QUIT\r\n"))
                            return outcome
                        case .close(let outcome):
                            return outcome
                        case .startTLS:
                            return .failed("STARTTLS requested twice")
                        }
                    }
                }
            } catch {
                return .failed("\(address) \(dialogue.stage): \(error)")
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    private func makeTLSContext() throws -> NIOSSLContext {
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        tlsConfiguration.minimumTLSVersion = .tlsv12
        if case .pemFile(let path) = configuration.trust { tlsConfiguration.trustRoots = .file(path) }
        return try NIOSSLContext(configuration: tlsConfiguration)
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

/// What an attempt is waiting for, read by the timeout to say where it stopped.
private final class Progress: Sendable {
    private let value = Mutex("before connecting")

    var stage: String {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
