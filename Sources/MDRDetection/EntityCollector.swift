import Foundation
import MDRDomain

/// Collects valid, distinct entities for a signal from a source format (Graph, CEF), up to the native form's limit per
/// kind. The source is the authority for its own alerts, so an identifier that does not fit (a device name with `/`,
/// a malformed hash or address) is dropped rather than rejecting the alert.
struct EntityCollector {
    var entities = SignalEntities()

    func nonEmpty(_ s: String) -> String? { s.trimmingWhitespace.isEmpty ? nil : s }

    mutating func device(_ raw: String?) {
        guard let raw, let d = DeviceID(rawValue: raw), entities.devices.count < NativeSignalParser.maxEntitiesPerKind,
            !entities.devices.contains(d)
        else { return }
        entities.devices.append(d)
    }

    mutating func user(_ raw: String?) {
        guard let u = raw.flatMap(Account.normalised), entities.users.count < NativeSignalParser.maxEntitiesPerKind,
            !entities.users.contains(u)
        else { return }
        entities.users.append(u)
    }

    mutating func ip(_ raw: String?) {
        guard let ip = raw.flatMap(IPAddress.normalised), entities.ips.count < NativeSignalParser.maxEntitiesPerKind,
            !entities.ips.contains(ip)
        else { return }
        entities.ips.append(ip)
    }

    mutating func hash(_ raw: String?) {
        guard let h = raw.flatMap(FileHash.normalised), entities.fileHashes.count < NativeSignalParser.maxEntitiesPerKind,
            !entities.fileHashes.contains(h)
        else { return }
        entities.fileHashes.append(h)
    }
}

/// Account identifiers (UPN, e-mail address, object id or SID), as the native form accepts them.
enum Account {
    static func normalised(_ raw: String) -> String? {
        let u = raw.trimmingWhitespace
        guard !u.isEmpty, u.utf8.count <= 256, !u.contains(where: \.isNewline) else { return nil }
        return u
    }
}

/// File hashes: MD5, SHA-1 or SHA-256 in hex, lowercased.
enum FileHash {
    static func normalised(_ raw: String) -> String? {
        let h = raw.trimmingWhitespace.lowercased()
        guard [32, 40, 64].contains(h.utf8.count), h.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { return nil }
        return h
    }
}
