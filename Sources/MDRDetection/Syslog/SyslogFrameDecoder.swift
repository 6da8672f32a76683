/// Splits a syslog TCP byte stream into messages (RFC 6587), as a pure state machine: feed it the bytes as they are
/// read, then take messages until it has none.
///
/// The framing is detected per message: one that starts with a non-zero digit and whose digits are followed by a space
/// is octet-counted (`LEN SP MSG`, RFC 6587 §3.4.1); every other one is non-transparent (RFC 6587 §3.4.2), ended by LF
/// or NUL, with a CR before the LF dropped. Empty frames (a lone LF after an octet-counted message, blank lines) are
/// skipped. A message over `maxMessageBytes` is reported once as `SyslogFramingError.messageTooLarge` and skipped, and
/// the stream stays usable; memory held is bounded by `maxMessageBytes` plus one read.
///
/// ```swift
/// var decoder = SyslogFrameDecoder(maxMessageBytes: 64 * 1024)
/// decoder.append(bytesRead)
/// while let frame = try decoder.next() { handle(frame) }
/// ```
public struct SyslogFrameDecoder: Sendable {
    /// The largest message accepted; larger ones are skipped with an error.
    public let maxMessageBytes: Int
    /// The longest octet count read: 10 digits, more than any `maxMessageBytes`.
    static let maxCountDigits = 10

    enum State: Sendable, Equatable {
        /// Between messages.
        case frameStart
        /// In an octet-counted message whose body has this many bytes.
        case octets(Int)
        /// In a non-transparent message; the bytes before `scanned` (relative to the read index) hold no terminator.
        case line(scanned: Int)
        /// Skipping the rest of an oversized octet-counted message.
        case discardingOctets(Int)
        /// Skipping an oversized non-transparent message up to its terminator.
        case discardingLine
    }

    var buffer: [UInt8] = []
    var readIndex = 0
    var state: State = .frameStart

    public init(maxMessageBytes: Int = 64 * 1024) {
        precondition(maxMessageBytes > 0)
        self.maxMessageBytes = maxMessageBytes
    }

    /// Bytes received but not yet returned as (or skipped as part of) a message.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Adds bytes read from the stream.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if readIndex > 0, readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, without its framing; nil when more bytes are needed. Throws
    /// `SyslogFramingError.messageTooLarge` once for each oversized message, which is then skipped: call again.
    public mutating func next() throws(SyslogFramingError) -> [UInt8]? {
        while true {
            switch state {
            case .frameStart:
                while readIndex < buffer.count, Self.isGap(buffer[readIndex]) { readIndex += 1 }
                guard readIndex < buffer.count else { return nil }
                let first = buffer[readIndex]
                guard first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9") else {
                    state = .line(scanned: 0)
                    continue
                }
                var i = readIndex
                var length = 0
                while i < buffer.count, i - readIndex <= Self.maxCountDigits, buffer[i] >= 0x30, buffer[i] <= 0x39 {
                    length = length * 10 + Int(buffer[i] - 0x30)
                    i += 1
                }
                let isCount = i - readIndex <= Self.maxCountDigits
                if isCount, i == buffer.count { return nil }  // the count may go on
                guard isCount, buffer[i] == 0x20 else {
                    // Digits not followed by a space: a message without PRI that starts with a number.
                    state = .line(scanned: 0)
                    continue
                }
                readIndex = i + 1
                if length > maxMessageBytes {
                    state = .discardingOctets(length)
                    throw SyslogFramingError(.messageTooLarge, "an octet-counted message of \(length) bytes is over the limit of \(maxMessageBytes): skipped")
                }
                state = .octets(length)
            case .octets(let length):
                guard buffer.count - readIndex >= length else { return nil }
                let frame = Array(buffer[readIndex..<(readIndex + length)])
                readIndex += length
                state = .frameStart
                return frame
            case .line(let scanned):
                var i = readIndex + scanned
                while i < buffer.count, buffer[i] != 0x0A, buffer[i] != 0x00 { i += 1 }
                guard i < buffer.count else {
                    if buffer.count - readIndex > maxMessageBytes {
                        let held = buffer.count - readIndex
                        readIndex = buffer.count
                        state = .discardingLine
                        throw SyslogFramingError(.messageTooLarge, "a line of more than \(held) bytes is over the limit of \(maxMessageBytes): skipped to its end")
                    }
                    state = .line(scanned: i - readIndex)
                    return nil
                }
                var end = i
                if end > readIndex, buffer[end - 1] == 0x0D { end -= 1 }
                let length = end - readIndex
                let frame = length > maxMessageBytes ? [] : Array(buffer[readIndex..<end])
                readIndex = i + 1
                state = .frameStart
                if length > maxMessageBytes {
                    throw SyslogFramingError(.messageTooLarge, "a line of \(length) bytes is over the limit of \(maxMessageBytes): skipped")
                }
                return frame
            case .discardingOctets(let left):
                let available = buffer.count - readIndex
                guard available >= left else {
                    readIndex = buffer.count
                    state = .discardingOctets(left - available)
                    return nil
                }
                readIndex += left
                state = .frameStart
            case .discardingLine:
                while readIndex < buffer.count, buffer[readIndex] != 0x0A, buffer[readIndex] != 0x00 { readIndex += 1 }
                guard readIndex < buffer.count else { return nil }
                readIndex += 1
                state = .frameStart
            }
        }
    }

    /// At the end of the stream: the last message when the sender closed without its LF. Throws
    /// `SyslogFramingError.truncated` when an octet-counted message (or its count) is incomplete.
    public mutating func finish() throws(SyslogFramingError) -> [UInt8]? {
        defer {
            buffer = []
            readIndex = 0
            state = .frameStart
        }
        switch state {
        case .line:
            var end = buffer.count
            if end > readIndex, buffer[end - 1] == 0x0D { end -= 1 }
            return end > readIndex ? Array(buffer[readIndex..<end]) : nil
        case .octets(let length):
            throw SyslogFramingError(.truncated, "the stream ended \(length - (buffer.count - readIndex)) bytes before the end of an octet-counted message")
        case .frameStart:
            guard readIndex < buffer.count else { return nil }
            // Only digits are left: a count without its message, or a message that is just a number.
            throw SyslogFramingError(.truncated, "the stream ended inside an octet count")
        case .discardingOctets, .discardingLine:
            return nil
        }
    }

    /// Bytes between messages: LF, CR and NUL.
    static func isGap(_ b: UInt8) -> Bool { b == 0x0A || b == 0x0D || b == 0x00 }
}

/// A framing problem in a syslog TCP stream. `code` is stable.
public struct SyslogFramingError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }

        /// A message over the size limit; it was skipped and the stream goes on.
        public static let messageTooLarge: Self = "syslog_message_too_large"
        /// The stream ended inside an octet-counted message.
        public static let truncated: Self = "syslog_truncated"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
