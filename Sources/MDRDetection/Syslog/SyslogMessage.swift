import Foundation
import MDRDomain

/// One syslog message, as RFC 5424 defines it or as RFC 3164 describes what devices send.
///
/// Only `message` (the MSG part, e.g. a CEF event) is ingested; the header is kept for logging and for the tests. A
/// 3164 message has no version, app name split, process id, message id or structured data: those stay nil or empty.
public struct SyslogMessage: Hashable, Sendable {
    /// The wire form the header was read as.
    public enum Format: String, Hashable, Sendable {
        /// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`.
        case rfc5424
        /// `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG`, and the many variants devices send.
        case rfc3164
    }

    /// One structured-data element: `[id name="value" …]`, values unescaped.
    public struct StructuredElement: Hashable, Sendable {
        public var id: String
        public var parameters: [Parameter]

        /// One `name="value"` pair of an element.
        public struct Parameter: Hashable, Sendable {
            public var name: String
            public var value: String
            public init(name: String, value: String) {
                self.name = name
                self.value = value
            }
        }

        public init(id: String, parameters: [Parameter]) {
            self.id = id
            self.parameters = parameters
        }
    }

    public var format: Format
    /// 0–23 (`PRI / 8`): 16–23 are local0–local7, which firewalls mostly use.
    public var facility: Int
    /// 0 (emergency) – 7 (debug) (`PRI % 8`). The syslog severity, not the signal's: CEF carries its own.
    public var severity: Int
    /// The header's time, when it has a valid one. A 3164 time has no year and no zone: the year is taken from the
    /// receive time (the previous year when that would put it more than a day ahead), the zone is UTC.
    public var timestamp: Date?
    /// The sender's name as it wrote it (`-` in 5424, or missing in 3164, gives nil).
    public var hostname: String?
    /// 5424 APP-NAME, or the 3164 TAG without its `[pid]`.
    public var appName: String?
    /// 5424 PROCID, or the 3164 `[pid]` after the tag.
    public var procID: String?
    /// 5424 MSGID.
    public var msgID: String?
    /// 5424 STRUCTURED-DATA; empty for NILVALUE and 3164.
    public var structuredData: [StructuredElement]
    /// The MSG part, without a leading UTF-8 BOM and without trailing line ends.
    public var message: String

    public init(
        format: Format, facility: Int, severity: Int, timestamp: Date? = nil, hostname: String? = nil, appName: String? = nil,
        procID: String? = nil, msgID: String? = nil, structuredData: [StructuredElement] = [], message: String
    ) {
        self.format = format
        self.facility = facility
        self.severity = severity
        self.timestamp = timestamp
        self.hostname = hostname
        self.appName = appName
        self.procID = procID
        self.msgID = msgID
        self.structuredData = structuredData
        self.message = message
    }
}

/// Why a syslog message could not be read. `code` is stable; `message` says what was wrong.
public struct SyslogParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }

        /// The message is empty (or only line ends).
        public static let empty: Self = "syslog_empty"
        /// `<PRI>` is not 0–191, or not closed by `>`.
        public static let invalidPriority: Self = "syslog_invalid_priority"
        /// An RFC 5424 header field is missing or malformed.
        public static let invalidHeader: Self = "syslog_invalid_header"
        /// RFC 5424 structured data is not well-formed.
        public static let invalidStructuredData: Self = "syslog_invalid_structured_data"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

extension SyslogMessage {
    /// Parses one message (one UDP datagram, or one TCP frame). `receivedAt` gives a 3164 timestamp its year.
    ///
    /// RFC 5424 (`<PRI>1 …`) is read strictly up to the structured data, except that an unparseable timestamp only
    /// leaves `timestamp` nil. Everything else is read as RFC 3164, leniently: the timestamp may be missing, be
    /// `Mmm dd hh:mm:ss` (day padded with a space or not, an optional year after the day or after the time, an optional
    /// fraction) or RFC 3339; the host and the tag may be missing; a message without `<PRI>` is given PRI 13 (user,
    /// notice) as RFC 3164 §4.3.3 says a relay does. A `CEF:` event directly after the PRI, the time or the host is the
    /// MSG as a whole.
    public static func parse(_ bytes: some Collection<UInt8>, receivedAt: Date) -> Result<SyslogMessage, SyslogParseError> {
        var b = Array(bytes)
        // Trailing line ends and NULs belong to the framing, not the message.
        while let last = b.last, last == 0x0A || last == 0x0D || last == 0x00 { b.removeLast() }
        guard b.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return .failure(.init(.empty, "the message is empty")) }
        var reader = ByteReader(b)
        var facility = 1, severity = 5
        if reader.peek == UInt8(ascii: "<") {
            reader.index += 1
            guard let pri = reader.number(maxDigits: 3), pri <= 191, reader.skip(UInt8(ascii: ">")) else {
                return .failure(.init(.invalidPriority, "the message must start with <PRI>, PRI 0–191"))
            }
            facility = pri / 8
            severity = pri % 8
        }
        if reader.remaining >= 2, reader.peek == UInt8(ascii: "1"), reader.peek(at: 1) == 0x20 {
            reader.index += 2
            return parse5424(&reader, facility: facility, severity: severity)
        }
        return .success(parse3164(&reader, facility: facility, severity: severity, receivedAt: receivedAt))
    }

    // MARK: RFC 5424

    static func parse5424(_ r: inout ByteReader, facility: Int, severity: Int) -> Result<SyslogMessage, SyslogParseError> {
        // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID, each followed by one space; NILVALUE is `-`.
        var fields: [String?] = []
        let names = ["TIMESTAMP", "HOSTNAME", "APP-NAME", "PROCID", "MSGID"]
        let limits = [64, 255, 48, 128, 32]
        for (n, name) in names.enumerated() {
            guard let token = r.token(), token.count <= limits[n], token.allSatisfy({ $0 >= 33 && $0 <= 126 }) else {
                return .failure(.init(.invalidHeader, "RFC 5424 header: \(name) is missing or not 1–\(limits[n]) printable characters"))
            }
            guard r.skip(0x20) else {
                return .failure(.init(.invalidHeader, "RFC 5424 header: no space after \(name)"))
            }
            fields.append(token == [UInt8(ascii: "-")] ? nil : String(decoding: token, as: UTF8.self))
        }
        var elements: [StructuredElement] = []
        if r.peek == UInt8(ascii: "-") {
            r.index += 1
        } else if r.peek == UInt8(ascii: "[") {
            while r.peek == UInt8(ascii: "[") {
                switch structuredElement(&r) {
                case .success(let element): elements.append(element)
                case .failure(let error): return .failure(error)
                }
            }
        } else {
            return .failure(.init(.invalidStructuredData, "RFC 5424: STRUCTURED-DATA must be '-' or start with '['"))
        }
        var message: ArraySlice<UInt8> = []
        if !r.isAtEnd {
            guard r.skip(0x20) else { return .failure(.init(.invalidStructuredData, "RFC 5424: no space after STRUCTURED-DATA")) }
            message = r.rest
        }
        return .success(
            SyslogMessage(
                format: .rfc5424, facility: facility, severity: severity, timestamp: fields[0].flatMap(Timestamp.parse),
                hostname: fields[1], appName: fields[2], procID: fields[3], msgID: fields[4], structuredData: elements,
                message: text(message)))
    }

    /// `[SD-ID *(SP PARAM-NAME="PARAM-VALUE")]`; in a value, `\"`, `\\` and `\]` are escapes, other backslashes are kept.
    static func structuredElement(_ r: inout ByteReader) -> Result<StructuredElement, SyslogParseError> {
        func fail(_ text: String) -> Result<StructuredElement, SyslogParseError> { .failure(.init(.invalidStructuredData, text)) }
        func isNameByte(_ c: UInt8) -> Bool {
            c >= 33 && c <= 126 && c != UInt8(ascii: "=") && c != UInt8(ascii: "]") && c != UInt8(ascii: "\"") && c != 0x20
        }
        r.index += 1  // [
        let id = r.take(while: isNameByte)
        guard !id.isEmpty, id.count <= 32 else { return fail("an SD-ID must be 1–32 printable characters") }
        var parameters: [StructuredElement.Parameter] = []
        while true {
            if r.skip(UInt8(ascii: "]")) { break }
            guard r.skip(0x20) else { return fail("structured data: expected ' ' or ']' in [\(text(id[...]))]") }
            let name = r.take(while: isNameByte)
            guard !name.isEmpty, name.count <= 32, r.skip(UInt8(ascii: "=")), r.skip(UInt8(ascii: "\"")) else {
                return fail("structured data: expected name=\"value\" in [\(text(id[...]))]")
            }
            var value: [UInt8] = []
            var closed = false
            while let c = r.peek {
                r.index += 1
                if c == UInt8(ascii: "\\"), let next = r.peek,
                    next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") || next == UInt8(ascii: "]")
                {
                    value.append(next)
                    r.index += 1
                } else if c == UInt8(ascii: "\"") {
                    closed = true
                    break
                } else {
                    value.append(c)
                }
            }
            guard closed else { return fail("structured data: unterminated value of \(text(name[...]))") }
            parameters.append(.init(name: text(name[...]), value: text(value[...])))
        }
        return .success(StructuredElement(id: text(id[...]), parameters: parameters))
    }

    // MARK: RFC 3164

    static func parse3164(_ r: inout ByteReader, facility: Int, severity: Int, receivedAt: Date) -> SyslogMessage {
        var m = SyslogMessage(format: .rfc3164, facility: facility, severity: severity, message: "")
        func isCEF(_ r: ByteReader) -> Bool { r.hasPrefix("CEF:") }
        // Some devices put a space after the PRI.
        while r.peek == 0x20 { r.index += 1 }
        if isCEF(r) {
            m.message = text(r.rest)
            return m
        }
        var afterTime = r
        if let time = bsdTimestamp(&afterTime, receivedAt: receivedAt) ?? isoTimestamp(&afterTime) {
            m.timestamp = time
            r = afterTime
            while r.peek == 0x20 { r.index += 1 }
        }
        if isCEF(r) {
            m.message = text(r.rest)
            return m
        }
        // HOSTNAME, unless the first word is already the tag (`sshd[42]:`, `CheckPoint:`) or the message itself.
        var probe = r
        if let word = probe.token(), probe.peek == 0x20, word.last != UInt8(ascii: ":"),
            !word.contains(where: { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "|") })
        {
            m.hostname = text(word[...])
            r = probe
            while r.peek == 0x20 { r.index += 1 }
        }
        if isCEF(r) {
            m.message = text(r.rest)
            return m
        }
        // TAG: up to 48 characters of [A-Za-z0-9_./-], an optional `[pid]`, then `:` (and a space).
        var tagReader = r
        let tag = tagReader.take(while: { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_")
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "/") || c == UInt8(ascii: "-")
        })
        if !tag.isEmpty, tag.count <= 48 {
            var pid: [UInt8]? = nil
            if tagReader.skip(UInt8(ascii: "[")) {
                let digits = tagReader.take(while: { $0 != UInt8(ascii: "]") && $0 != 0x20 })
                if tagReader.skip(UInt8(ascii: "]")) { pid = digits } else { pid = nil }
            }
            if tagReader.skip(UInt8(ascii: ":")) {
                m.appName = text(tag[...])
                m.procID = pid.map { text($0[...]) }
                _ = tagReader.skip(0x20)
                r = tagReader
            }
        }
        m.message = text(r.rest)
        return m
    }

    static let months: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

    /// `Mmm dd hh:mm:ss`, `Mmm  d hh:mm:ss`, with an optional `.fraction`, and an optional year after the day
    /// (`Nov 29 2026 10:15:30`, Cisco) or after the time. Consumes nothing when it fails.
    static func bsdTimestamp(_ r: inout ByteReader, receivedAt: Date) -> Date? {
        var p = r
        guard p.remaining >= 15 else { return nil }
        let month3 = Array(p.rest.prefix(3))
        guard let month = months.firstIndex(where: { $0.elementsEqual(month3, by: { $0 | 0x20 == $1 | 0x20 }) }) else { return nil }
        p.index += 3
        guard p.skip(0x20) else { return nil }
        _ = p.skip(0x20)
        guard let day = p.number(maxDigits: 2), (1...31).contains(day), p.skip(0x20) else { return nil }
        var year: Int? = nil
        var yearProbe = p
        if let y = yearProbe.number(maxDigits: 4), y >= 1970, yearProbe.skip(0x20) {
            year = y
            p = yearProbe
        }
        guard let hh = p.number(maxDigits: 2), p.skip(UInt8(ascii: ":")), let mm = p.number(maxDigits: 2), p.skip(UInt8(ascii: ":")),
            let ss = p.number(maxDigits: 2)
        else { return nil }
        if p.skip(UInt8(ascii: ".")) { _ = p.take(while: { $0 >= 0x30 && $0 <= 0x39 }) }
        if year == nil {
            var after = p
            if after.skip(0x20), let y = after.number(maxDigits: 4), y >= 1970, after.peek == 0x20 || after.isAtEnd {
                year = y
                p = after
            }
        }
        func iso(_ year: Int) -> Date? {
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
            return Timestamp.parse("\(year)-\(two(month + 1))-\(two(day))T\(two(hh)):\(two(mm)):\(two(ss))Z")
        }
        let date: Date?
        if let year {
            date = iso(year)
        } else {
            let thisYear = Int(Timestamp.format(receivedAt).prefix(4)) ?? 1970
            // December's messages read in January belong to the year before.
            if let guess = iso(thisYear), guess.timeIntervalSince(receivedAt) > 86_400 {
                date = iso(thisYear - 1)
            } else {
                date = iso(thisYear)
            }
        }
        guard let date else { return nil }
        r = p
        return date
    }

    /// An RFC 3339 time in place of the 3164 one (`2026-11-29T10:15:30.123+01:00`), as rsyslog and many devices send.
    static func isoTimestamp(_ r: inout ByteReader) -> Date? {
        var p = r
        guard let first = p.peek, first >= 0x30, first <= 0x39 else { return nil }
        let token = p.token() ?? []
        guard token.count >= 19, let date = Timestamp.parse(text(token[...])) else { return nil }
        r = p
        return date
    }

    /// UTF-8 text, without a leading BOM (RFC 5424 marks UTF-8 MSGs with one). Invalid sequences become U+FFFD.
    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        var slice = bytes
        if slice.starts(with: [0xEF, 0xBB, 0xBF]) { slice = slice.dropFirst(3) }
        return String(decoding: slice, as: UTF8.self)
    }
}

/// A cursor over the bytes of one message.
struct ByteReader {
    let bytes: [UInt8]
    var index: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.index = 0
    }

    var isAtEnd: Bool { index >= bytes.count }
    var remaining: Int { bytes.count - index }
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
    func peek(at offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }
    var rest: ArraySlice<UInt8> { bytes[min(index, bytes.count)...] }

    func hasPrefix(_ s: String) -> Bool { rest.starts(with: s.utf8) }

    mutating func skip(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    /// Up to `maxDigits` decimal digits (at least one).
    mutating func number(maxDigits: Int) -> Int? {
        var value = 0, count = 0
        while count < maxDigits, let c = peek, c >= 0x30, c <= 0x39 {
            value = value * 10 + Int(c - 0x30)
            index += 1
            count += 1
        }
        return count > 0 ? value : nil
    }

    mutating func take(while predicate: (UInt8) -> Bool) -> [UInt8] {
        let start = index
        while let c = peek, predicate(c) { index += 1 }
        return Array(bytes[start..<index])
    }

    /// The bytes up to the next space (or the end); nil when there are none.
    mutating func token() -> [UInt8]? {
        let word = take(while: { $0 != 0x20 })
        return word.isEmpty ? nil : word
    }
}
