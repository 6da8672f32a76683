import Foundation
import HTTPTypes
import MDRDomain
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// A request the HTTP parser cannot read (a raw non-ASCII request line, a malformed header) gets the service's
/// problem+json like every other 400, not Hummingbird's empty `400 Bad Request`: it answers `bad_request` naming the
/// parser's reason, and closes the connection (the stream cannot be trusted after a parse error).
///
/// Sits in the channel pipeline after the HTTP codecs (`additionalChannelHandlers`): the parser's error passes here
/// before it reaches Hummingbird, which would write its own answer.
final class UnparsableRequestHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let problem = Problem(status: .badRequest, code: "bad_request", detail: "the request could not be read as HTTP/1.1 (\(Self.reason(parserError))): send ASCII request lines and headers")
        let body = (try? JSONCoding.encoder().encode(problem.body)) ?? Data()
        let head = HTTPResponse(
            status: .badRequest,
            headerFields: [.contentType: Problem.contentType, .contentLength: String(body.count), .connection: "close"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    /// The parser's reason in words (its own names, e.g. `invalidURL`, `invalidHeaderToken`).
    static func reason(_ error: HTTPParserError) -> String {
        String(describing: error).replacingOccurrences(of: "HTTPParserError.", with: "")
    }
}
