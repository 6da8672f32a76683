import Foundation
import MDRDomain

/// Parses Microsoft Graph security alerts v2 (`microsoft.graph.security.alert`, `GET /security/alerts_v2`) into
/// normalised signals. The body is a JSON array of alerts, the Graph list response `{"value": [...]}`, or NDJSON (one
/// alert per line).
///
/// Each alert is parsed on its own: one bad alert is rejected with its index and never loses the others. The index is
/// the alert's position in the array, or the 0-based line number for NDJSON (blank lines give no signal).
///
/// Only allow-listed fields are read (see `docs/detection.md`): descriptions, recommended actions, comments,
/// `additionalData`, mail subjects, URLs and command lines are never decoded, so they cannot reach a `Signal`.
/// Enumerations are parsed leniently: an unknown value maps to a documented default and never rejects an alert.
public enum GraphAlertParser {
    /// Parses a batch. A body that is neither a JSON array, a `{"value": [...]}` object nor NDJSON of objects is
    /// refused as a whole (`invalid_signal`), since no alert in it can be told apart.
    public static func parseBatch(_ data: Data) throws(DomainError) -> ParsedBatch {
        let decoder = JSONCoding.decoder()
        guard let first = data.first(where: { !isJSONWhitespace($0) }) else {
            return ParsedBatch(signals: [], rejections: [])
        }
        var batch = ParsedBatch(signals: [], rejections: [])
        func add(_ index: Int, _ result: Result<Signal, NativeSignalParser.Reason>) {
            switch result {
            case .success(let signal): batch.signals.append((index, signal))
            case .failure(let reason): batch.rejections.append(SignalRejection(index: index, reason: reason.text))
            }
        }
        switch first {
        case UInt8(ascii: "["):
            guard let elements = try? decoder.decode([Lenient].self, from: data) else {
                throw DomainError(.invalidSignal, .invalid, "the body is not a JSON array of Graph alerts")
            }
            for (index, element) in elements.enumerated() { add(index, element.signal) }
        case UInt8(ascii: "{"):
            if let list = try? decoder.decode(ListResponse.self, from: data) {
                for (index, element) in list.value.enumerated() { add(index, element.signal) }
            } else if let single = try? decoder.decode(Lenient.self, from: data) {
                // One alert, possibly pretty-printed over several lines (one line of NDJSON is the same thing).
                add(0, single.signal)
            } else {
                for (index, line) in lines(of: data) {
                    guard let element = try? decoder.decode(Lenient.self, from: line) else {
                        add(index, .failure(.init(text: "line \(index + 1) is not a JSON object")))
                        continue
                    }
                    add(index, element.signal)
                }
            }
        default:
            throw DomainError(
                .invalidSignal, .invalid,
                "the body must be Graph alerts as a JSON array, {\"value\": [ … ]} or NDJSON (one alert per line)")
        }
        return batch
    }

    // MARK: Mapping

    /// Maps `serviceSource` and `detectionSource` to a source. Antivirus detections (`detectionSource: antivirus`) are
    /// the antivirus source whatever service reported them; Defender for Endpoint is the endpoint; every other or
    /// unknown service (Office 365, Identity, Cloud Apps, Entra ID Protection, Microsoft 365 Defender, DLP, …) is
    /// Microsoft 365, since Graph alerts come from the Microsoft 365 Defender stack.
    static func source(service: String?, detection: String?) -> SignalSource {
        if detection?.lowercased() == "antivirus" { return .antivirus }
        switch service?.lowercased() {
        case "microsoftdefenderforendpoint": return .endpoint
        default: return .microsoft365
        }
    }

    /// `informational`, `low`, `medium`, `high` (and `critical`, should Graph add it); anything else (`unknown`,
    /// `unknownFutureValue`, a value newer than this parser, missing) is `unknown`, prioritised as medium: an alert is
    /// never down-ranked for a value the service does not know. The raw value is kept on the signal.
    static func severity(_ raw: String?) -> Severity {
        switch raw?.lowercased() {
        case "informational": return .informational
        case "low": return .low
        case "medium": return .medium
        case "high": return .high
        case "critical": return .critical
        default: return .unknown
        }
    }

    /// `new`, `inProgress`, `resolved`; anything else (`unknown`, `unknownFutureValue`, missing) is `new`.
    static func status(_ raw: String?) -> SignalStatus {
        switch raw?.lowercased() {
        case "inprogress": return .inProgress
        case "resolved": return .resolved
        default: return .new
        }
    }

    static func validate(_ alert: Alert) -> Result<Signal, NativeSignalParser.Reason> {
        func fail(_ text: String) -> Result<Signal, NativeSignalParser.Reason> { .failure(.init(text: text)) }
        guard let id = alert.id?.trimmingWhitespace, !id.isEmpty else { return fail("id is required") }
        guard id.utf8.count <= NativeSignalParser.maxAlertIDLength else {
            return fail("id is longer than \(NativeSignalParser.maxAlertIDLength) bytes")
        }
        let observedAt: Date
        if let raw = alert.createdDateTime {
            guard let date = Timestamp.parse(raw) else { return fail("createdDateTime: '\(raw.prefix(40))' is not an ISO-8601 time") }
            observedAt = date
        } else if let raw = alert.firstActivityDateTime {
            guard let date = Timestamp.parse(raw) else {
                return fail("firstActivityDateTime: '\(raw.prefix(40))' is not an ISO-8601 time")
            }
            observedAt = date
        } else {
            return fail("createdDateTime or firstActivityDateTime is required")
        }
        let title = String((alert.title ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(NativeSignalParser.maxTitleLength))

        var entities = EntityCollector()
        for evidence in alert.evidence ?? [] { entities.add(evidence.value) }
        var techniques: [String] = []
        for raw in alert.mitreTechniques ?? [] {
            if let raw, MitreTechnique.isValid(raw), !techniques.contains(raw) { techniques.append(raw) }
        }
        return .success(
            Signal(
                source: source(service: alert.serviceSource, detection: alert.detectionSource), sourceAlertID: id,
                severity: severity(alert.severity), status: status(alert.status), title: title, observedAt: observedAt,
                entities: entities.entities, mitreTechniques: techniques, category: identifier(alert.category),
                providerAlertID: identifier(alert.providerAlertId), providerIncidentID: identifier(alert.incidentId),
                rawSeverity: severity(alert.severity) == .unknown ? identifier(alert.severity).map { String($0.prefix(40)) } ?? "(none)" : nil))
    }

    /// A short identifier-like value (category, provider ids) or nothing: never free text.
    static func identifier(_ raw: String?) -> String? {
        guard let value = raw?.trimmingWhitespace, !value.isEmpty, value.utf8.count <= 128,
            value.allSatisfy({ $0.isLetter || $0.isNumber || "-_.:".contains($0) })
        else { return nil }
        return value
    }

    // MARK: The allow-listed shape

    struct ListResponse: Decodable { var value: [Lenient] }

    /// One alert whose decoding failure is kept as its rejection instead of failing the batch.
    struct Lenient: Decodable {
        var signal: Result<Signal, NativeSignalParser.Reason>
        init(from decoder: any Decoder) throws {
            do {
                signal = validate(try Alert(from: decoder))
            } catch {
                signal = .failure(NativeSignalParser.describe(error))
            }
        }
    }

    /// The fields of an alert that are read. Everything else in the alert is never decoded.
    struct Alert: Decodable {
        var id: String?
        var status: String?
        var severity: String?
        var serviceSource: String?
        var detectionSource: String?
        var title: String?
        var createdDateTime: String?
        var firstActivityDateTime: String?
        var mitreTechniques: [String?]?
        var category: String?
        var providerAlertId: String?
        var incidentId: String?
        var evidence: [LenientEvidence]?
    }

    /// One evidence item; an item of an unexpected shape is skipped rather than losing the alert.
    struct LenientEvidence: Decodable {
        var value: Evidence?
        init(from decoder: any Decoder) throws { value = try? Evidence(from: decoder) }
    }

    /// The identifier fields of the evidence types that are read, by `@odata.type`.
    struct Evidence: Decodable {
        var odataType: String?
        // deviceEvidence
        var mdeDeviceId: String?
        var deviceDnsName: String?
        var ipInterfaces: [String]?
        // userEvidence
        var userAccount: UserAccount?
        // mailboxEvidence
        var primaryAddress: String?
        // ipEvidence
        var ipAddress: String?
        // fileEvidence
        var fileDetails: FileDetails?
        // processEvidence
        var imageFile: FileDetails?
        // analyzedMessageEvidence: the recipient and the relaying server only; never subject, urls or senders' names.
        var recipientEmailAddress: String?
        var senderIp: String?
        // urlEvidence: only an IP-literal host is kept.
        var url: String?

        enum CodingKeys: String, CodingKey {
            case odataType = "@odata.type"
            case mdeDeviceId, deviceDnsName, ipInterfaces, userAccount, primaryAddress, ipAddress, fileDetails, imageFile
            case recipientEmailAddress, senderIp, url
        }

        /// The type name without its namespace: `deviceEvidence`.
        var kind: String {
            guard let odataType else { return "" }
            return String(odataType.split(separator: ".").last ?? "")
        }
    }

    struct UserAccount: Decodable {
        var userPrincipalName: String?
        var azureAdUserId: String?
        var userSid: String?
    }

    struct FileDetails: Decodable {
        var sha1: String?
        var sha256: String?
    }

    // MARK: Framing

    static func isJSONWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// The non-blank lines of an NDJSON body with their 0-based line numbers.
    static func lines(of data: Data) -> [(Int, Data)] {
        var result: [(Int, Data)] = []
        var lineNumber = 0
        var start = data.startIndex
        func flush(_ end: Data.Index) {
            let line = data[start..<end]
            if line.contains(where: { !isJSONWhitespace($0) }) { result.append((lineNumber, Data(line))) }
        }
        for i in data.indices where data[i] == 0x0A {
            flush(i)
            lineNumber += 1
            start = data.index(after: i)
        }
        flush(data.endIndex)
        return result
    }
}

extension EntityCollector {
    /// Adds the identifiers of one Graph evidence item; evidence types not listed here add nothing.
    mutating func add(_ evidence: GraphAlertParser.Evidence?) {
        guard let evidence else { return }
        switch evidence.kind {
        case "deviceEvidence":
            device(evidence.mdeDeviceId.flatMap(nonEmpty) ?? evidence.deviceDnsName)
            // The device's addresses during the alert: what links it to firewall events about the same machine.
            for address in evidence.ipInterfaces ?? [] { ip(address) }
        case "userEvidence":
            let account = evidence.userAccount
            user(account?.userPrincipalName.flatMap(nonEmpty) ?? account?.azureAdUserId.flatMap(nonEmpty) ?? account?.userSid)
        case "mailboxEvidence":
            user(evidence.primaryAddress)
        case "ipEvidence":
            ip(evidence.ipAddress)
        case "fileEvidence":
            hash(evidence.fileDetails?.sha256)
            hash(evidence.fileDetails?.sha1)
        case "processEvidence":
            hash(evidence.imageFile?.sha256)
            hash(evidence.imageFile?.sha1)
        case "analyzedMessageEvidence":
            user(evidence.recipientEmailAddress)
            ip(evidence.senderIp)
        case "urlEvidence":
            ip(evidence.url.flatMap(URLComponents.init(string:))?.host.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) })
        default:
            break
        }
    }
}
