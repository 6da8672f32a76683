import Foundation
import HummingbirdTesting
import NIOCore
import NIOPosix
import Testing

/// Requests the HTTP parser cannot read get the service's problem+json (`bad_request`, naming the parser's reason)
/// and a closed connection, like every other 400; sent as raw bytes over loopback, as a broken client sends them.
@Suite struct UnparsableRequestTests {
    /// Sends `raw` on a new connection and returns everything the server answers until it closes the connection.
    static func exchange(port: Int, _ raw: [UInt8]) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: raw))
            var answer = ByteBuffer()
            for try await chunk in inbound { answer.writeImmutableBuffer(chunk) }
            return String(buffer: answer)
        }
    }

    @Test func aRequestLineOrHeaderTheParserCannotReadGetsAProblem() async throws {
        try await APIWorld.run(.live) { api in
            let port = try #require(api.client.port)
            for (raw, reason) in [
                (Array("GET /v1/ü HTTP/1.1\r\nHost: x\r\n\r\n".utf8), "invalid URL"),
                (Array("GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".utf8), "invalid character in header"),
            ] {
                let answer = try await Self.exchange(port: port, raw)
                let (head, body) = (answer.components(separatedBy: "\r\n\r\n").first ?? "", answer.components(separatedBy: "\r\n\r\n").dropFirst().joined())
                #expect(head.hasPrefix("HTTP/1.1 400 Bad Request"), "\(answer)")
                #expect(head.lowercased().contains("content-type: application/problem+json") && head.lowercased().contains("connection: close"))
                let problem = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
                #expect(problem?["code"] as? String == "bad_request" && problem?["status"] as? Int == 400)
                #expect((problem?["detail"] as? String)?.contains(reason) == true, "\(body)")
            }
            // The server goes on serving.
            #expect(try await Self.exchange(port: port, Array("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)).hasPrefix("HTTP/1.1 200"))
        }
    }
}
