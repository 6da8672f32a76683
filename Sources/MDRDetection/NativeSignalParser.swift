import Foundation
import MDRDomain

/// A signal the parser could not accept: its index in the batch, a stable code and the reason.
public struct SignalRejection: Hashable, Sendable, Codable {
    public var index: Int
    public var code: DomainError.Code
    public var reason: String

    public init(index: Int, code: DomainError.Code = .invalidSignal, reason: String) {
        self.index = index
        self.code = code
        self.reason = reason
    }
}

/// A remark on a signal that is accepted all the same (its event time was replaced by the receive time): reported on
/// its item with `code` and `reason`.
public struct SignalNote: Hashable, Sendable {
    public var index: Int
    public var code: DomainError.Code
    public var reason: String

    public init(index: Int, code: DomainError.Code, reason: String) {
        self.index = index
        self.code = code
        self.reason = reason
    }
}

/// A parsed batch: the good signals with their index in the batch (and notes on some of them), and the rejected ones.
public struct ParsedBatch: Sendable {
    public var signals: [(index: Int, signal: Signal)]
    public var rejections: [SignalRejection]
    public var notes: [SignalNote] = []
    public var count: Int { signals.count + rejections.count }

    public init(signals: [(index: Int, signal: Signal)], rejections: [SignalRejection], notes: [SignalNote] = []) {
        self.signals = signals
        self.rejections = rejections
        self.notes = notes
    }

    /// Adds the outcome of the item at `index`.
    mutating func add(_ parsed: Result<(signal: Signal, note: SignalNote?), CEFParser.ParseFailure>, index: Int) {
        switch parsed {
        case .success(let (signal, note)):
            signals.append((index, signal))
            if var note {
                note.index = index
                notes.append(note)
            }
        case .failure(let failure): rejections.append(SignalRejection(index: index, reason: failure.text))
        }
    }
}

/// Parses the service's native JSON signal form. Each element is parsed on its own: one bad signal is reported
/// with its index and never loses the others. Unknown fields are ignored (never stored): the form is an allow-list.
///
/// ```json
/// {"signals": [{"source": "endpoint", "sourceAlertId": "da637…", "severity": "high", "status": "new",
///   "title": "Ransomware behaviour detected", "observedAt": "2026-11-29T10:15:30Z",
///   "entities": {"devices": ["ws-0042"], "users": ["anna@example.nl"], "ips": ["203.0.113.7"],
///                "fileHashes": ["<sha256>"]}, "mitreTechniques": ["T1486"]}]}
/// ```
public enum NativeSignalParser {
    /// Limits on one signal's fields.
    public static let maxEntitiesPerKind = 100
    public static let maxTitleLength = 300
    public static let maxAlertIDLength = 200

    /// Parses a batch, either `{"signals": [...]}` or a bare JSON array. A body that is not such JSON at all is
    /// refused as a whole (`invalid_signal`), since no signal in it can be told apart.
    public static func parseBatch(_ data: Data) throws(DomainError) -> ParsedBatch {
        let decoder = JSONCoding.decoder()
        let elements: [Lenient]
        if let wrapped = try? decoder.decode(Wrapped.self, from: data) {
            elements = wrapped.signals
        } else if let array = try? decoder.decode([Lenient].self, from: data) {
            elements = array
        } else {
            throw DomainError(.invalidSignal, .invalid, "the body must be JSON: {\"signals\": [ … ]} or an array of signals")
        }
        var batch = ParsedBatch(signals: [], rejections: [])
        for (index, element) in elements.enumerated() {
            switch element.result.mapError({ describe($0) }).flatMap({ validate($0) }) {
            case .success(let signal): batch.signals.append((index, signal))
            case .failure(let reason): batch.rejections.append(SignalRejection(index: index, reason: reason.text))
            }
        }
        return batch
    }

    struct Reason: Error { var text: String }

    struct Wrapped: Decodable { var signals: [Lenient] }

    struct Lenient: Decodable {
        var result: Result<Native, any Error>
        init(from decoder: any Decoder) throws {
            result = Result { try Native(from: decoder) }
        }
    }

    struct Native: Decodable {
        var source: String?
        var sourceAlertId: String?
        var severity: String?
        var status: String?
        var title: String?
        var observedAt: Date?
        var entities: Entities?
        var mitreTechniques: [String]?

        struct Entities: Decodable {
            var devices: [String]?
            var users: [String]?
            var ips: [String]?
            var fileHashes: [String]?
        }
    }

    static func describe(_ error: any Error) -> Reason {
        switch error {
        case DecodingError.typeMismatch(let type, let context):
            return Reason(text: "\(path(context.codingPath)): expected \(type)")
        case DecodingError.dataCorrupted(let context):
            return Reason(text: "\(path(context.codingPath)): \(context.debugDescription)")
        case DecodingError.valueNotFound(_, let context):
            return Reason(text: "\(path(context.codingPath)): must not be null")
        default:
            return Reason(text: "not a signal object")
        }
    }

    /// The field's path within its signal: the batch's own keys (`signals`, the element's index) are left out, so
    /// that the wrapped and the bare form give the same reason.
    static func path(_ keys: [any CodingKey]) -> String {
        let inSignal = keys.firstIndex(where: { $0.intValue != nil }).map { keys[(keys.index(after: $0))...] } ?? keys[...]
        let names = inSignal.compactMap { $0.intValue == nil ? $0.stringValue : nil }
        return names.isEmpty ? "signal" : names.joined(separator: ".")
    }

    static func validate(_ n: Native) -> Result<Signal, Reason> {
        func fail(_ text: String) -> Result<Signal, Reason> { .failure(Reason(text: text)) }
        guard let rawSource = n.source else { return fail("source is required") }
        guard let source = SignalSource(rawValue: rawSource) else {
            return fail("source '\(rawSource.prefix(40))' is unknown: use one of \(SignalSource.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let alertID = n.sourceAlertId?.trimmingCharacters(in: .whitespaces), !alertID.isEmpty else {
            return fail("sourceAlertId is required")
        }
        guard alertID.utf8.count <= maxAlertIDLength else { return fail("sourceAlertId is longer than \(maxAlertIDLength) bytes") }
        guard let rawSeverity = n.severity else { return fail("severity is required") }
        guard let severity = Severity(rawValue: rawSeverity) else {
            return fail("severity '\(rawSeverity.prefix(40))' is unknown: use one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let status: SignalStatus
        if let rawStatus = n.status {
            guard let s = SignalStatus(rawValue: rawStatus) else {
                return fail("status '\(rawStatus.prefix(40))' is unknown: use one of \(SignalStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = s
        } else {
            status = .new
        }
        guard let observedAt = n.observedAt else { return fail("observedAt is required (ISO-8601 time)") }
        let title = (n.title ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard title.count <= maxTitleLength else { return fail("title is longer than \(maxTitleLength) characters") }

        let e = n.entities
        for (name, list) in [("devices", e?.devices), ("users", e?.users), ("ips", e?.ips), ("fileHashes", e?.fileHashes)] {
            if let list, list.count > maxEntitiesPerKind { return fail("entities.\(name): more than \(maxEntitiesPerKind)") }
        }
        var devices: [DeviceID] = []
        for raw in e?.devices ?? [] {
            guard let d = DeviceID(rawValue: raw) else { return fail("entities.devices: '\(raw.prefix(40))' is not a device id") }
            if !devices.contains(d) { devices.append(d) }
        }
        var users: [String] = []
        for raw in e?.users ?? [] {
            guard let u = Account.normalised(raw) else {
                return fail("entities.users: '\(raw.prefix(40))' is not an account identifier")
            }
            if !users.contains(u) { users.append(u) }
        }
        var ips: [String] = []
        for raw in e?.ips ?? [] {
            guard let ip = IPAddress.normalised(raw) else { return fail("entities.ips: '\(raw.prefix(60))' is not an IPv4 or IPv6 address") }
            if !ips.contains(ip) { ips.append(ip) }
        }
        var hashes: [String] = []
        for raw in e?.fileHashes ?? [] {
            guard let h = FileHash.normalised(raw) else {
                return fail("entities.fileHashes: '\(raw.prefix(70))' is not an MD5, SHA-1 or SHA-256 in hex")
            }
            if !hashes.contains(h) { hashes.append(h) }
        }
        var techniques: [String] = []
        for raw in n.mitreTechniques ?? [] {
            guard MitreTechnique.isValid(raw) else { return fail("mitreTechniques: '\(raw.prefix(20))' is not a technique id like T1566 or T1566.001") }
            if !techniques.contains(raw) { techniques.append(raw) }
        }
        return .success(
            Signal(
                source: source, sourceAlertID: alertID, severity: severity, status: status, title: title, observedAt: observedAt,
                entities: SignalEntities(devices: devices, users: users, ips: ips, fileHashes: hashes), mitreTechniques: techniques))
    }
}

enum MitreTechnique {
    static func isValid(_ s: String) -> Bool {
        let b = Array(s.utf8)
        func digits(_ r: Range<Int>) -> Bool { b[r].allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        if b.count == 5 { return b[0] == 0x54 && digits(1..<5) }
        if b.count == 9 { return b[0] == 0x54 && digits(1..<5) && b[5] == 0x2E && digits(6..<9) }
        return false
    }
}

enum IPAddress {
    /// Returns the address in its usual text form (IPv4 dotted quad, IPv6 lowercased), or nil.
    static func normalised(_ raw: String) -> String? {
        let s = raw.trimmingCharacters(in: .whitespaces)
        if isIPv4(s) { return s }
        let lower = s.lowercased()
        if isIPv6(lower) { return lower }
        return nil
    }

    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isASCIIDigit) && Int(p)! <= 255 && !(p.count > 1 && p.first == "0")
        }
    }

    /// RFC 4291 text forms: eight groups of 1–4 hex digits, at most one `::` standing for one or more zero groups,
    /// and an optional trailing dotted quad counting as two groups. Zone ids (`%eth0`) are not addresses.
    static func isIPv6(_ s: String) -> Bool {
        guard s.utf8.count >= 2, s.utf8.count <= 45 else { return false }
        let halves = s.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        var groups = 0
        for (h, half) in halves.enumerated() where !half.isEmpty {
            let pieces = half.split(separator: ":", omittingEmptySubsequences: false)
            for (p, piece) in pieces.enumerated() {
                if h == halves.count - 1, p == pieces.count - 1, piece.contains(".") {
                    guard isIPv4(String(piece)) else { return false }
                    groups += 2
                } else {
                    guard (1...4).contains(piece.utf8.count),
                        piece.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
                    else { return false }
                    groups += 1
                }
            }
        }
        return halves.count == 2 ? groups <= 7 : groups == 8
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
