/// One SMTP reply (RFC 5321 §4.2): a three-digit code and one or more lines of text (`250-…` continues, `250 …` ends).
public struct SMTPReply: Sendable, Hashable {
    /// The reply code, 200–599 in practice.
    public var code: Int
    /// The text of each line, without the code and the separator.
    public var lines: [String]

    /// A reply.
    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// The lines joined with a space: the text recorded in an outcome.
    public var text: String { lines.joined(separator: " ") }

    /// 2xx.
    var isPositive: Bool { (200..<300).contains(code) }
    /// 3xx.
    var isIntermediate: Bool { (300..<400).contains(code) }
    /// 5xx.
    var isPermanentFailure: Bool { (500..<600).contains(code) }
}

/// Why the server's bytes are not an SMTP reply.
struct SMTPProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    var description: String
}

/// Assembles reply lines into replies (pure): feed it each line without its CRLF.
struct SMTPReplyAssembler: Sendable {
    /// The longest reply line accepted (RFC 5321 allows 512 octets; servers send more in practice).
    static let maximumLineLength = 4096
    /// The most lines one reply may have (protects against a server that never ends a multi-line reply).
    static let maximumLines = 256

    private var code: Int?
    private var lines: [String] = []

    /// The reply when `line` completes one, `nil` when more lines follow.
    mutating func feed(_ line: [UInt8]) throws(SMTPProtocolError) -> SMTPReply? {
        guard line.count <= Self.maximumLineLength else { throw SMTPProtocolError(description: "reply line too long") }
        guard line.count >= 3, line[0...2].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            line.count == 3 || line[3] == UInt8(ascii: " ") || line[3] == UInt8(ascii: "-")
        else { throw SMTPProtocolError(description: "malformed reply line \"\(Self.printable(line))\"") }
        let lineCode = line[0...2].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        if let code, code != lineCode {
            throw SMTPProtocolError(description: "reply code changed within a reply: \(code), then \(lineCode)")
        }
        code = lineCode
        lines.append(line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : "")
        guard lines.count <= Self.maximumLines else { throw SMTPProtocolError(description: "reply has too many lines") }
        if line.count == 3 || line[3] == UInt8(ascii: " ") {
            defer {
                self.code = nil
                lines = []
            }
            return SMTPReply(code: lineCode, lines: lines)
        }
        return nil
    }

    static func printable(_ line: [UInt8]) -> String {
        String(decoding: line.prefix(80).map { $0 < 32 || $0 > 126 ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
    }
}
