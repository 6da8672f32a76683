import Foundation
import MDRDomain

/// One CEF record, unescaped: the seven header fields and the extension's `key=value` pairs in their order.
public struct CEFRecord: Hashable, Sendable {
    public var version: String
    public var deviceVendor: String
    public var deviceProduct: String
    public var deviceVersion: String
    public var signatureID: String
    public var name: String
    public var severity: String
    public var extensions: [Extension]
    /// What came before `CEF:` on the line: the syslog header (RFC 3164 or RFC 5424), or nothing.
    public var syslogPrefix: String

    /// One extension pair. Keys are ASCII letters, digits, `_`, `.` and `-` (`src`, `cs1Label`, `ad.vd`).
    public struct Extension: Hashable, Sendable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public init(
        version: String, deviceVendor: String, deviceProduct: String, deviceVersion: String, signatureID: String, name: String,
        severity: String, extensions: [Extension], syslogPrefix: String = ""
    ) {
        self.syslogPrefix = syslogPrefix
        self.version = version
        self.deviceVendor = deviceVendor
        self.deviceProduct = deviceProduct
        self.deviceVersion = deviceVersion
        self.signatureID = signatureID
        self.name = name
        self.severity = severity
        self.extensions = extensions
    }

    /// The value of the first pair with this key.
    public subscript(key: String) -> String? { extensions.first(where: { $0.key == key })?.value }
}

/// Parses firewall events in ArcSight CEF as received over syslog, and maps them to `firewall` signals.
///
/// A line is `[syslog prefix] CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`.
/// Everything before `CEF:` is the syslog prefix (RFC 3164 or RFC 5424): only its timestamp is read, as the event's time
/// when the event carries none of its own (`eventTime`). In the header, `\|` and `\\`
/// are escapes; in the extension, `\=`, `\\`, `\n` and `\r` (and `\|`, which some senders write). An extension value
/// runs until the next ` key=`, so it may contain spaces; trailing spaces of a value are not significant.
///
/// Only allow-listed extension keys reach a signal (see `docs/detection.md`): `msg`, `request`, `cs*` and vendor
/// fields are never kept.
public enum CEFParser {
    /// Parses text holding one CEF event per line. The index of a signal or rejection is its 0-based line number;
    /// blank lines give neither. One bad line never loses the others.
    public static func parseLines(_ text: String, receivedAt: Date) -> ParsedBatch {
        var batch = ParsedBatch(signals: [], rejections: [])
        var lineNumber = 0
        // `\r\n` is one Character in Swift: split on both forms of line end.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            defer { lineNumber += 1 }
            guard line.contains(where: { !$0.isWhitespace }) else { continue }
            batch.add(mapped(line, receivedAt: receivedAt), index: lineNumber)
        }
        return batch
    }

    /// Parses CEF events as received over HTTP: bytes, one event per line. A line that is not valid UTF-8 is rejected on
    /// its own (as the JSON routes refuse such text), never stored with replacement characters; the others are parsed
    /// as by `parseLines(_:receivedAt:)`, with the same line numbers.
    public static func parseLines(utf8 bytes: [UInt8], receivedAt: Date) -> ParsedBatch {
        var batch = ParsedBatch(signals: [], rejections: [])
        var lineNumber = 0
        for raw in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            defer { lineNumber += 1 }
            let line = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw[...]
            guard let text = String(validating: line, as: UTF8.self) else {
                batch.rejections.append(SignalRejection(index: lineNumber, reason: "the line is not valid UTF-8: send CEF as UTF-8"))
                continue
            }
            guard text.contains(where: { !$0.isWhitespace }) else { continue }
            batch.add(mapped(text[...], receivedAt: receivedAt), index: lineNumber)
        }
        return batch
    }

    /// Parses one line and maps it to a signal; `receivedAt` is its time when it has no usable time of its own.
    public static func signal(from line: Substring, receivedAt: Date) -> Result<Signal, ParseFailure> {
        mapped(line, receivedAt: receivedAt).map(\.signal)
    }

    /// One line's signal, with a note when its own time was not used (see `eventTime`).
    static func mapped(_ line: Substring, receivedAt: Date) -> Result<(signal: Signal, note: SignalNote?), ParseFailure> {
        parseRecord(line).flatMap { mapped($0, receivedAt: receivedAt) }
    }

    /// How far an event's own time may be ahead of its receipt (clock skew) before the receive time replaces it.
    public static let maxAheadOfReceipt: TimeInterval = 300

    /// Why a line could not be parsed or mapped.
    public struct ParseFailure: Error, Hashable, Sendable {
        public var text: String
    }

    // MARK: Syntax

    /// Parses one line into its header and extension, unescaped. Does not interpret any value.
    public static func parseRecord(_ line: Substring) -> Result<CEFRecord, ParseFailure> {
        let bytes = Array(line.utf8)
        guard let cef = marker(in: bytes) else { return .failure(.init(text: "no 'CEF:' header in the line")) }
        var fields: [[UInt8]] = []
        var current: [UInt8] = []
        var i = cef + 4
        while i < bytes.count, fields.count < 7 {
            let b = bytes[i]
            if b == UInt8(ascii: "\\"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "|") || bytes[i + 1] == UInt8(ascii: "\\") {
                current.append(bytes[i + 1])
                i += 2
            } else if b == UInt8(ascii: "|") {
                fields.append(current)
                current = []
                i += 1
            } else {
                current.append(b)
                i += 1
            }
        }
        let extensionStart: Int
        if fields.count == 7 {
            extensionStart = i
        } else if fields.count == 6 {
            // No `|` after the severity: a record without extension.
            fields.append(current)
            extensionStart = bytes.count
        } else {
            return .failure(.init(text: "the CEF header has \(fields.count + 1) of its 8 '|'-separated parts"))
        }
        let header = fields.map { String(decoding: $0, as: UTF8.self) }
        let version = header[0].trimmingWhitespace
        guard !version.isEmpty, version.allSatisfy(\.isASCIIDigit) else {
            return .failure(.init(text: "CEF version '\(version.prefix(10))' is not a number"))
        }
        return .success(
            CEFRecord(
                version: version, deviceVendor: header[1], deviceProduct: header[2], deviceVersion: header[3],
                signatureID: header[4], name: header[5], severity: header[6],
                extensions: parseExtension(bytes[extensionStart...]), syslogPrefix: String(decoding: bytes[..<cef], as: UTF8.self)))
    }

    /// The offset of the first `CEF:`: what comes before it is the syslog prefix.
    static func marker(in b: [UInt8]) -> Int? {
        guard b.count >= 5 else { return nil }
        for i in 0...(b.count - 5)
        where b[i] == UInt8(ascii: "C") && b[i + 1] == UInt8(ascii: "E") && b[i + 2] == UInt8(ascii: "F") && b[i + 3] == UInt8(ascii: ":") {
            return i
        }
        return nil
    }

    static func isKeyByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_")
            || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
    }

    /// Splits the extension into pairs. A key is a run of key bytes at the start or after a space, followed by an
    /// unescaped `=`; an `=` anywhere else (an unescaped one inside a URL, say) stays part of the value.
    static func parseExtension(_ b: ArraySlice<UInt8>) -> [CEFRecord.Extension] {
        // (key start, offset of its `=`)
        var keys: [(start: Int, equals: Int)] = []
        var i = b.startIndex
        while i < b.endIndex {
            let c = b[i]
            if c == UInt8(ascii: "\\") {
                i += 2
                continue
            }
            if c == UInt8(ascii: "=") {
                var start = i
                while start > b.startIndex, isKeyByte(b[start - 1]) { start -= 1 }
                if start < i, start == b.startIndex || b[start - 1] == UInt8(ascii: " ") {
                    keys.append((start, i))
                }
            }
            i += 1
        }
        var pairs: [CEFRecord.Extension] = []
        for (n, key) in keys.enumerated() {
            var end = n + 1 < keys.count ? keys[n + 1].start : b.endIndex
            while end > key.equals + 1, b[end - 1] == UInt8(ascii: " ") { end -= 1 }
            let name = String(decoding: b[key.start..<key.equals], as: UTF8.self)
            pairs.append(.init(key: name, value: unescapeValue(b[(key.equals + 1)..<end])))
        }
        return pairs
    }

    static func unescapeValue(_ b: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = b.startIndex
        while i < b.endIndex {
            let c = b[i]
            if c == UInt8(ascii: "\\"), i + 1 < b.endIndex {
                switch b[i + 1] {
                case UInt8(ascii: "="), UInt8(ascii: "\\"), UInt8(ascii: "|"): out.append(b[i + 1])
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                default: out.append(contentsOf: [c, b[i + 1]])
                }
                i += 2
            } else {
                out.append(c)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Mapping

    /// Maps the header severity: 0–3 low, 4–6 medium, 7–8 high, 9–10 critical; or the words Low, Medium, High,
    /// Very-High (critical), Critical; `Unknown` (Check Point sends it) is informational. Case is ignored.
    public static func severity(_ raw: String) -> Severity? {
        let s = raw.trimmingWhitespace.lowercased()
        if let n = Int(s), s.allSatisfy(\.isASCIIDigit) {
            switch n {
            case 0...3: return .low
            case 4...6: return .medium
            case 7...8: return .high
            case 9...10: return .critical
            default: return nil
            }
        }
        switch s {
        case "unknown", "informational": return .informational
        case "low": return .low
        case "medium": return .medium
        case "high": return .high
        case "very-high", "very high", "veryhigh", "critical": return .critical
        default: return nil
        }
    }

    /// Maps a record to a `firewall` signal. See `docs/detection.md` for the fields read.
    public static func signal(from record: CEFRecord, receivedAt: Date) -> Result<Signal, ParseFailure> {
        mapped(record, receivedAt: receivedAt).map(\.signal)
    }

    /// A record's signal, with a note when its own time lay too far ahead of the receipt and the receive time was used.
    static func mapped(_ record: CEFRecord, receivedAt: Date) -> Result<(signal: Signal, note: SignalNote?), ParseFailure> {
        func fail(_ text: String) -> Result<(signal: Signal, note: SignalNote?), ParseFailure> { .failure(.init(text: text)) }
        guard let severity = severity(record.severity) else {
            return fail("severity '\(record.severity.prefix(20))' is not 0–10, Unknown, Low, Medium, High or Very-High")
        }
        let alertID: String
        if let external = record["externalId"]?.trimmingWhitespace, !external.isEmpty {
            alertID = external
        } else {
            alertID = compositeID(record)
        }
        guard alertID.utf8.count <= NativeSignalParser.maxAlertIDLength else {
            return fail("the alert id (externalId, or vendor|product|signature|rt|src|dst) is longer than \(NativeSignalParser.maxAlertIDLength) bytes")
        }
        var entities = EntityCollector()
        for key in ["src", "dst", "c6a2", "c6a3"] { entities.ip(record[key]) }
        for key in ["suser", "duser"] { entities.user(record[key]) }
        for key in ["shost", "dhost"] {
            // A host that is an IP address is already among the ips; it does not name a device.
            if let host = record[key], IPAddress.normalised(host) == nil { entities.device(host) }
        }
        let title = String(record.name.trimmingCharacters(in: .whitespacesAndNewlines).prefix(NativeSignalParser.maxTitleLength))
        var observedAt = receivedAt
        var note: SignalNote?
        if let claimed = eventTime(record, receivedAt: receivedAt) {
            if claimed.timeIntervalSince(receivedAt) > maxAheadOfReceipt {
                note = SignalNote(
                    index: 0, code: .eventTimeInFuture,
                    reason: "the event's time \(Timestamp.format(claimed)) is more than \(Int(maxAheadOfReceipt / 60)) minutes after it was received: the receive time is used (check the sender's clock and time zone)")
            } else {
                observedAt = claimed
            }
        }
        return .success((
            Signal(
                source: .firewall, sourceAlertID: alertID, severity: severity, status: .new, title: title,
                observedAt: observedAt, entities: entities.entities), note))
    }

    /// Without `externalId`: `vendor|product|signatureId|rt|src|dst`, the values as received (`|` and `\` escaped as in
    /// the header, missing ones empty). Readable and stable, so a resent line is the same alert.
    static func compositeID(_ r: CEFRecord) -> String {
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|") }
        return [r.deviceVendor, r.deviceProduct, r.signatureID, r["rt"] ?? "", r["src"] ?? "", r["dst"] ?? ""].map(esc)
            .joined(separator: "|")
    }

    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// The time the event happened, from the first of these that is readable (docs/detection.md, "Event time"):
    /// 1. `rt` (`time`);
    /// 2. FortiGate's `FTNTFGTeventtime` (or `eventtime`: seconds, ms, µs or ns since 1970), then its
    ///    `FTNTFGTdate` + `FTNTFGTtime` (or `date` + `time`) with `FTNTFGTtz` (or `tz`);
    /// 3. `start` (the CEF field for when the activity began; Palo Alto's generated time, Check Point's start);
    /// 4. the syslog header's timestamp (RFC 5424, or RFC 3164 with its year taken from the receipt);
    /// nil when none is, and the receive time is used.
    public static func eventTime(_ record: CEFRecord, receivedAt: Date) -> Date? {
        if let t = record["rt"].flatMap({ time($0, receivedAt: receivedAt) }) { return t }
        if let t = (record["FTNTFGTeventtime"] ?? record["eventtime"]).flatMap(epoch) { return t }
        if let day = record["FTNTFGTdate"] ?? record["date"], let clock = record["FTNTFGTtime"] ?? record["time"],
            let t = zoned("\(day.trimmingWhitespace)T\(clock.trimmingWhitespace)", zone: record["FTNTFGTtz"] ?? record["tz"])
        {
            return t
        }
        if let t = record["start"].flatMap({ time($0, receivedAt: receivedAt) }) { return t }
        return headerTime(record.syslogPrefix, receivedAt: receivedAt)
    }

    /// The timestamp of the syslog header before `CEF:`: a whole RFC 5424 or RFC 3164 header (`<PRI>…`), or a header
    /// without its `<PRI>` as relays and files write it (`Feb 12 11:11:30 host`, `2026-11-29T10:21:08Z host`).
    static func headerTime(_ prefix: String, receivedAt: Date) -> Date? {
        let bytes = Array(prefix.utf8)
        guard let first = bytes.first else { return nil }
        if first == UInt8(ascii: "<") {
            guard case .success(let header) = SyslogMessage.parse(bytes, receivedAt: receivedAt) else { return nil }
            return header.timestamp
        }
        var reader = ByteReader(bytes)
        return SyslogMessage.bsdTimestamp(&reader, receivedAt: receivedAt) ?? SyslogMessage.isoTimestamp(&reader)
    }

    /// A CEF time value in any form ArcSight documents — milliseconds since 1970; `MMM dd yyyy HH:mm:ss[.SSS][ zone]`;
    /// `MMM dd HH:mm:ss[.SSS][ zone]` (the year taken from the receipt, the one before when that would put it more than
    /// a day ahead) — or ISO 8601 (`2025-10-07T14:03:19.250Z`, Sophos). Zones: `Z`, `UTC`, `GMT`, `±HH:MM`, `±HHMM`; no
    /// zone is UTC. Anything else gives nil.
    static func time(_ raw: String, receivedAt: Date) -> Date? {
        let s = raw.trimmingWhitespace
        if !s.isEmpty, s.utf8.count <= 15, s.allSatisfy(\.isASCIIDigit), let ms = Int64(s) {
            return millisecondsSince1970(ms)
        }
        if let first = s.first, first.isASCIIDigit { return Timestamp.parse(s) }
        let parts = s.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count >= 3, parts.count <= 5, let month = months.firstIndex(of: parts[0].lowercased()),
            parts[1].count <= 2, parts[1].allSatisfy(\.isASCIIDigit)
        else { return nil }
        let hasYear = parts[2].count == 4 && parts[2].allSatisfy(\.isASCIIDigit)
        let clock = hasYear ? (parts.count > 3 ? parts[3] : "") : parts[2]
        guard clock.count >= 8, parts.count <= (hasYear ? 5 : 4) else { return nil }
        let zone: String? = parts.count == (hasYear ? 5 : 4) ? String(parts[parts.count - 1]) : nil
        let day = parts[1].count == 1 ? "0" + parts[1] : String(parts[1])
        let month2 = month < 9 ? "0\(month + 1)" : "\(month + 1)"
        func at(_ year: Int) -> Date? { zoned("\(year)-\(month2)-\(day)T\(clock)", zone: zone) }
        if hasYear { return Int(parts[2]).flatMap(at) }
        let thisYear = Int(Timestamp.format(receivedAt).prefix(4)) ?? 1970
        guard let guess = at(thisYear) else { return nil }
        // December's events read in January belong to the year before.
        return guess.timeIntervalSince(receivedAt) > 86_400 ? at(thisYear - 1) : guess
    }

    /// `yyyy-MM-ddTHH:mm:ss[.fff]` in `zone` (`Z`, `UTC`, `GMT`, `±HH:MM`, `±HHMM`; none is UTC).
    static func zoned(_ local: String, zone: String?) -> Date? {
        guard let zone = zone?.trimmingWhitespace, !zone.isEmpty else { return Timestamp.parse(local + "Z") }
        switch zone.uppercased() {
        case "Z", "UTC", "GMT": return Timestamp.parse(local + "Z")
        default:
            guard zone.first == "+" || zone.first == "-" else { return nil }
            let digits = zone.dropFirst().filter(\.isASCIIDigit)
            guard digits.count == 4, zone.count == 5 || (zone.count == 6 && zone.dropFirst(3).first == ":") else { return nil }
            return Timestamp.parse(local + "\(zone.first!)\(digits.prefix(2)):\(digits.suffix(2))")
        }
    }

    /// Seconds, milliseconds, microseconds or nanoseconds since 1970, told apart by magnitude (FortiGate's
    /// `eventtime` is nanoseconds since FortiOS 6.2, seconds before); kept to the millisecond, as every time here.
    static func epoch(_ raw: String) -> Date? {
        let s = raw.trimmingWhitespace
        guard !s.isEmpty, s.utf8.count <= 19, s.allSatisfy(\.isASCIIDigit), let n = Int64(s), n > 0 else { return nil }
        let milliseconds: Int64
        switch n {
        case 100_000_000_000_000_000...: milliseconds = n / 1_000_000
        case 100_000_000_000_000...: milliseconds = n / 1_000
        case 100_000_000_000...: milliseconds = n
        default: milliseconds = n * 1_000
        }
        return millisecondsSince1970(milliseconds)
    }

    /// The instant, built as `Timestamp.parse` builds one (whole seconds from the reference date plus the fraction), so
    /// that the same time read from an epoch and from text is the same `Date`.
    static func millisecondsSince1970(_ ms: Int64) -> Date {
        let seconds = ms / 1000, fraction = ms % 1000
        return Date(timeIntervalSinceReferenceDate: Double(seconds - 978_307_200) + Double(fraction) / 1000)
    }
}
