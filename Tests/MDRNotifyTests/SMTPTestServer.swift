import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A real SMTP server for tests: `ops/lib/smtp_sink.py` (Python's aiosmtpd) as a subprocess on a free loopback port.
/// It stores every message it accepts; recipients `reject-…` get 550 and `busy-…` 451.
///
/// When aiosmtpd is not installed the server cannot start and the test fails with the script's message (`ops/test`
/// installs it).
struct SMTPSink {
    /// One message as the server received and parsed it (`N.json` of the script).
    struct Received: Decodable {
        var mail_from: String
        var rcpt_tos: [String]
        var tls: Bool
        var login: String?
        var headers: [String: String]
        var subject: String
        var body: String?
        var defects: [String]
        var longest_line: Int
    }

    /// Options of the script.
    struct Options {
        var tls: TestCertificate?
        var auth: String?
        var authWithoutTLS = false
        var noEHLO = false
    }

    let port: Int
    let maildir: URL

    /// The messages received so far, in order.
    func received() throws -> [Received] {
        let names = try FileManager.default.contentsOfDirectory(atPath: maildir.path)
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            .sorted { Int($0.dropLast(5)) ?? 0 < Int($1.dropLast(5)) ?? 0 }
        return try names.map { try JSONDecoder().decode(Received.self, from: Data(contentsOf: maildir.appendingPathComponent($0))) }
    }

    /// The raw bytes of message `n` (1-based), as received after DATA.
    func raw(_ n: Int) throws -> Data { try Data(contentsOf: maildir.appendingPathComponent("\(n).eml")) }
}

struct SMTPSinkDidNotStart: Error, CustomStringConvertible {
    var description: String
}

/// The folder of this package (for `ops/lib/smtp_sink.py`).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A temporary folder, removed after `body`.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mdr-smtp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

/// Runs the SMTP sink while `body` runs, then stops it (SIGTERM) and removes its folder.
func withSMTPSink<T>(_ options: SMTPSink.Options = .init(), _ body: (SMTPSink) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { folder in
        let maildir = folder.appendingPathComponent("mail"), portFile = folder.appendingPathComponent("port")
        let stderrFile = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        var arguments = [
            "python3", packageRoot.appendingPathComponent("ops/lib/smtp_sink.py").path,
            "--maildir", maildir.path, "--port-file", portFile.path,
        ]
        if let tls = options.tls { arguments += ["--tls-cert", tls.certificate.path, "--tls-key", tls.key.path] }
        if let auth = options.auth { arguments += ["--auth", auth] }
        if options.authWithoutTLS { arguments.append("--auth-without-tls") }
        if options.noEHLO { arguments.append("--no-ehlo") }
        arguments.append("--stop-on-eof")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.standardOutput = FileHandle.nullDevice
        // The server stops when this pipe closes: at the end, or when this test process dies.
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        do {
            let result = try await runSink(process: process, portFile: portFile, stderrFile: stderrFile, maildir: maildir, body)
            await stop(process, stdin: stdin)
            return result
        } catch {
            await stop(process, stdin: stdin)
            throw error
        }
    }
}

/// Stops the sink: closes its stdin and sends SIGTERM, then waits up to 5 s for it to exit.
private func stop(_ process: Process, stdin: Pipe) async {
    try? stdin.fileHandleForWriting.close()
    if process.isRunning { process.terminate() }
    let started = ContinuousClock.now
    while process.isRunning, ContinuousClock.now - started < .seconds(5) {
        try? await Task.sleep(for: .milliseconds(20))
    }
}

private func runSink<T>(
    process: Process, portFile: URL, stderrFile: URL, maildir: URL, _ body: (SMTPSink) async throws -> T
) async throws -> T {
    // Wait (up to 20 s) until the server has written its port, i.e. accepts connections.
    let started = ContinuousClock.now
    while !FileManager.default.fileExists(atPath: portFile.path) {
        if !process.isRunning || ContinuousClock.now - started > .seconds(20) {
            let stderr = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
            throw SMTPSinkDidNotStart(
                description: "the SMTP test server (ops/lib/smtp_sink.py, aiosmtpd) did not start: "
                    + (stderr.isEmpty ? "no port within 20 s" : stderr))
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    let portText = try String(contentsOf: portFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    guard let port = Int(portText) else { throw SMTPSinkDidNotStart(description: "bad port file: \(portText)") }
    return try await body(SMTPSink(port: port, maildir: maildir))
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, made with the openssl CLI.
struct TestCertificate {
    var certificate: URL
    var key: URL

    static func make(in folder: URL) throws -> TestCertificate {
        let certificate = folder.appendingPathComponent("cert.pem"), key = folder.appendingPathComponent("key.pem")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key.path, "-out", certificate.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SMTPSinkDidNotStart(description: "openssl req failed with status \(process.terminationStatus)")
        }
        return TestCertificate(certificate: certificate, key: key)
    }
}

/// A TCP server on loopback that accepts connections and never says anything (the sender must time out).
final class SilentServer: Sendable {
    private let channel: any Channel
    private let accepted: Counter

    /// Connections accepted so far.
    var connections: Int { accepted.value }
    /// The port it listens on.
    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, accepted: Counter) {
        self.channel = channel
        self.accepted = accepted
    }

    static func start() async throws -> SilentServer {
        let counter = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                counter.increment()
                return child.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return SilentServer(channel: channel, accepted: counter)
    }

    func stop() async { try? await channel.close() }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}

/// A loopback port where nothing listens (bound once, then closed again).
func closedPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}
