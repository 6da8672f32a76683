import NIOCore

/// Splits the server's bytes into lines (LF, with or without CR) and assembles them into ``SMTPReply`` values.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    private var assembler = SMTPReplyAssembler()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > SMTPReplyAssembler.maximumLineLength {
                throw SMTPProtocolError(description: "reply line too long")
            }
            return .needMoreData
        }
        guard var line = buffer.readBytes(length: newline - buffer.readerIndex + 1) else { return .needMoreData }
        line.removeLast()
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if let reply = try assembler.feed(line) {
            context.fireChannelRead(Self.wrapInboundOut(reply))
        }
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
