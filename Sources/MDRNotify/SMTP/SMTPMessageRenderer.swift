import Foundation

/// Why a message cannot be rendered. Its ``description`` is the stable reply text of the
/// `.rejected(code: 0, reply:)` outcome.
public struct EmailMessageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Starts with `invalid header` or `invalid address`.
    public var description: String
}

/// Renders an ``EmailMessage`` as RFC 5322 text (pure): the headers, a blank line and the body, with CRLF line
/// endings and no line longer than 998 octets.
///
/// - `Subject` and extra header values: as is when ASCII, folded at spaces to about 78 characters; otherwise RFC 2047
///   encoded-words (`=?utf-8?B?…?=`).
/// - The body: `7bit` when it is ASCII with no line over 998 octets, otherwise `quoted-printable` (so no
///   `8BITMIME` is needed from the server).
public enum SMTPMessageRenderer {
    /// The headers the renderer writes itself; extra headers may not use these names.
    static let standardHeaders: Set<String> = [
        "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "content-type",
        "content-transfer-encoding",
    ]

    /// Checks the message without rendering it: every header value and address is free of CR and LF, addresses are
    /// plain ASCII `local@domain`, and extra header names are valid and not standard ones.
    public static func validate(_ message: EmailMessage, defaultFrom: String) throws(EmailMessageError) {
        let from = message.from.isEmpty ? defaultFrom : message.from
        try checkAddress(from, field: "From")
        try checkAddress(defaultFrom, field: "envelope sender")
        guard !message.to.isEmpty else { throw EmailMessageError(description: "invalid address To: no recipient") }
        for address in message.to { try checkAddress(address, field: "To") }
        try checkLineFree(message.subject, field: "Subject")
        try checkLineFree(message.messageID, field: "Message-ID")
        guard !message.messageID.isEmpty, message.messageID.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") })
        else { throw EmailMessageError(description: "invalid header Message-ID: empty, or not printable ASCII without <>") }
        for (name, value) in message.headers {
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
                throw EmailMessageError(description: "invalid header name \(printable(name))")
            }
            guard !standardHeaders.contains(name.lowercased()) else {
                throw EmailMessageError(description: "invalid header \(name): set by the renderer")
            }
            try checkLineFree(value, field: name)
        }
    }

    /// The message as sent after `DATA` (before dot-stuffing): headers, blank line, body; CRLF line endings.
    public static func render(_ message: EmailMessage, defaultFrom: String, date: Date) throws(EmailMessageError) -> String {
        try validate(message, defaultFrom: defaultFrom)
        let from = message.from.isEmpty ? defaultFrom : message.from
        var lines: [String] = [
            "From: \(from)",
            "To: " + message.to.joined(separator: ",\r\n "),
            headerLine(name: "Subject", value: message.subject),
            "Date: \(rfc5322Date(date))",
            "Message-ID: <\(message.messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
        ]
        for (name, value) in message.headers.sorted(by: { $0.key < $1.key }) {
            lines.append(headerLine(name: name, value: value))
        }
        var body = bodyLines(message.textBody)
        // A final line ending ends the last line; it does not start an empty one.
        if body.count > 1, body.last == "" { body.removeLast() }
        let needsEncoding = body.contains { line in line.utf8.count > 998 || line.utf8.contains { $0 >= 128 } }
        if needsEncoding {
            lines.append("Content-Transfer-Encoding: quoted-printable")
            lines.append("")
            lines.append(contentsOf: body.flatMap(quotedPrintable))
        } else {
            lines.append("Content-Transfer-Encoding: 7bit")
            lines.append("")
            lines.append(contentsOf: body)
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// The bytes to send after the server's 354: every line ending made CRLF, a `.` doubled at the start of every
    /// line (RFC 5321 §4.5.2), and the terminating `CRLF.CRLF`.
    public static func dataSection(_ rendered: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rendered.utf8.count + 64)
        var lines = bodyLines(rendered)
        if lines.last == "" { lines.removeLast() }
        for line in lines {
            if line.utf8.first == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            out.append(contentsOf: line.utf8)
            out.append(contentsOf: [13, 10])
        }
        out.append(contentsOf: Array(".\r\n".utf8))
        return out
    }

    /// A date as RFC 5322 wants it: `Sun, 29 Nov 2026 16:00:00 +0000`.
    public static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }

    /// One header, folded or encoded: ASCII values whose words fit are folded at spaces; anything else becomes
    /// RFC 2047 encoded-words of at most 75 characters, one per line.
    static func headerLine(name: String, value: String) -> String {
        let isPlain = value.utf8.allSatisfy { $0 >= 32 && $0 < 127 }
            && !value.contains("=?")
            && value.split(separator: " ", omittingEmptySubsequences: false).allSatisfy { $0.utf8.count <= 900 }
        if isPlain { return fold("\(name): \(value)") }
        return "\(name): " + encodedWords(value).joined(separator: "\r\n ")
    }

    /// Folds an ASCII header line at spaces so that lines stay near 78 characters (a single longer word stays whole).
    static func fold(_ line: String) -> String {
        guard line.utf8.count > 78 else { return line }
        var folded: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if current.isEmpty {
                current = String(word)
            } else if current.utf8.count + 1 + word.utf8.count > 78 {
                folded.append(current)
                current = " " + word
            } else {
                current += " " + word
            }
        }
        folded.append(current)
        return folded.joined(separator: "\r\n")
    }

    /// RFC 2047 `B` encoded-words, each at most 75 characters, never splitting a Unicode scalar.
    static func encodedWords(_ value: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        func flush() {
            guard !chunk.isEmpty else { return }
            words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=")
            chunk.removeAll()
        }
        for scalar in value.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            // 45 bytes → 60 base64 characters, + 12 for `=?utf-8?B?` and `?=`: 72 ≤ 75.
            if chunk.count + bytes.count > 45 { flush() }
            chunk.append(contentsOf: bytes)
        }
        flush()
        return words.isEmpty ? ["=?utf-8?B??="] : words
    }

    /// Lines of a text, split at CRLF, CR or LF.
    static func bodyLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current: [UInt8] = []
        var previousWasCR = false
        for byte in text.utf8 {
            if byte == 10 && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = byte == 13
            if byte == 10 || byte == 13 {
                lines.append(String(decoding: current, as: UTF8.self))
                current.removeAll()
            } else {
                current.append(byte)
            }
        }
        lines.append(String(decoding: current, as: UTF8.self))
        return lines
    }

    /// One body line as quoted-printable (RFC 2045 §6.7): lines of at most 76 characters, soft breaks `=`.
    static func quotedPrintable(_ line: String) -> [String] {
        let hex = Array("0123456789ABCDEF".utf8)
        let bytes = Array(line.utf8)
        var out: [String] = []
        var current: [UInt8] = []
        for (index, byte) in bytes.enumerated() {
            let isLast = index == bytes.count - 1
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !isLast)
            let token: [UInt8] = literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            // Keep room for the soft break `=`: at most 75 characters before it.
            if current.count + token.count > 75 {
                out.append(String(decoding: current + [UInt8(ascii: "=")], as: UTF8.self))
                current.removeAll()
            }
            current.append(contentsOf: token)
        }
        out.append(String(decoding: current, as: UTF8.self))
        return out
    }

    static func checkLineFree(_ value: String, field: String) throws(EmailMessageError) {
        if value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            throw EmailMessageError(description: "invalid header \(field): contains CR, LF or NUL")
        }
    }

    static func checkAddress(_ address: String, field: String) throws(EmailMessageError) {
        if address.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            throw EmailMessageError(description: "invalid header \(field): address contains CR, LF or NUL")
        }
        let bytes = Array(address.utf8)
        let forbidden: Set<UInt8> = Set("<>,;:\"()[]\\ ".utf8)
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > 0, at < bytes.count - 1, bytes.count <= 254,
            bytes.allSatisfy({ $0 > 32 && $0 < 127 && !forbidden.contains($0) })
        else { throw EmailMessageError(description: "invalid address \(field): \(printable(address)) is not local@domain in ASCII") }
    }

    static func printable(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.prefix(100).map { $0.value < 32 ? "?" : $0 }))
    }
}
