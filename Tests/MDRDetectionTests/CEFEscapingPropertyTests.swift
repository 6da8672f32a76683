import Foundation
import Testing

@testable import MDRDetection
import MDRDomain

/// Property tests of CEF escaping: any record, written with the escapes of the CEF specification, parses back to itself.
/// Random records come from a seeded generator, so a failure names a seed that reproduces it.
@Suite struct CEFEscapingPropertyTests {
    /// SplitMix64: small, seedable, good enough to generate test inputs.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let seeds: [UInt64] = [1, 2, 3, 42, 2026, 0xC0FFEE]
    static let iterations = 300

    /// Characters that matter to the format, mixed with ordinary and non-ASCII ones.
    static let special: [Character] = ["|", "\\", "=", " ", "n", "r", "k", "=", "\\", "é", "中", "😀", "-", ".", "_", "\t", ":"]
    static let valueOnly: [Character] = ["\n", "\r"]
    static let keyCharacters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")

    static func text(_ rng: inout SeededGenerator, maxLength: Int, extra: [Character] = []) -> String {
        let alphabet = special + extra + Array("abcXYZ019")
        return String((0..<Int.random(in: 0...maxLength, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
    }

    static func record(_ rng: inout SeededGenerator) -> CEFRecord {
        var keys: [String] = []
        for _ in 0..<Int.random(in: 0...8, using: &rng) {
            let first = keyCharacters.prefix(52).randomElement(using: &rng)!
            let key = String(first) + String((0..<Int.random(in: 0...8, using: &rng)).map { _ in keyCharacters.randomElement(using: &rng)! })
            if !keys.contains(key) { keys.append(key) }
        }
        let extensions = keys.map { key in
            var value = text(&rng, maxLength: 24, extra: valueOnly)
            // Trailing spaces separate a value from the next key: they are not significant.
            while value.last == " " { value.removeLast() }
            return CEFRecord.Extension(key: key, value: value)
        }
        let severities = ["0", "5", "10", "Low", "Medium", "High", "Very-High", "Unknown"]
        return CEFRecord(
            version: ["0", "1"].randomElement(using: &rng)!, deviceVendor: text(&rng, maxLength: 12), deviceProduct: text(&rng, maxLength: 12),
            deviceVersion: text(&rng, maxLength: 6), signatureID: text(&rng, maxLength: 8), name: text(&rng, maxLength: 30),
            severity: severities.randomElement(using: &rng)!, extensions: extensions)
    }

    /// Writes a record as the CEF specification says: `\` and `|` escaped in the header; `\`, `=`, line feeds and
    /// carriage returns escaped in extension values.
    static func line(_ r: CEFRecord, prefix: String = "") -> String {
        func header(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|") }
        func value(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "=", with: "\\=")
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        }
        let head = [r.version, r.deviceVendor, r.deviceProduct, r.deviceVersion, r.signatureID, r.name, r.severity].map(header)
        return prefix + "CEF:" + head.joined(separator: "|") + "|" + r.extensions.map { "\($0.key)=\(value($0.value))" }.joined(separator: " ")
    }

    static let prefixes = ["", "<134>Nov 29 10:21:07 fw01 ", "<134>1 2026-11-29T10:21:07.003Z fw01.acme.local - - - - ", "Feb 12 11:11:30 syslog-800c "]

    @Test(arguments: seeds)
    func anyEscapedRecordParsesBackToItself(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed)
        for iteration in 0..<Self.iterations {
            var record = Self.record(&rng)
            let prefix = Self.prefixes.randomElement(using: &rng)!
            let line = Self.line(record, prefix: prefix)
            let parsed = try CEFParser.parseRecord(line[...]).get()
            record.syslogPrefix = prefix
            #expect(parsed == record, "seed \(seed), iteration \(iteration): \(line)")
            if parsed != record { return }
        }
    }

    @Test(arguments: seeds)
    func everyNonBlankLineGivesExactlyOneSignalOrRejection(seed: UInt64) {
        var rng = SeededGenerator(state: seed)
        var lines: [String] = []
        for _ in 0..<Self.iterations {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: lines.append(Self.line(Self.record(&rng)))
            case 1: lines.append(Self.text(&rng, maxLength: 80))  // not CEF at all
            case 2: lines.append("CEF:" + Self.text(&rng, maxLength: 80))  // a broken header
            default: lines.append(String(Self.line(Self.record(&rng)).prefix(Int.random(in: 0...60, using: &rng))))  // cut short
            }
        }
        let nonBlank = lines.filter { $0.contains(where: { !$0.isWhitespace }) }.count
        let batch = CEFParser.parseLines(lines.joined(separator: "\n"), receivedAt: Date(timeIntervalSince1970: 0))
        #expect(batch.count == nonBlank, "seed \(seed)")
        #expect(Set(batch.signals.map(\.index)).isDisjoint(with: batch.rejections.map(\.index)))
    }

    @Test(arguments: seeds)
    func aWellFormedRecordWithAValidSeverityAlwaysBecomesASignal(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed)
        for iteration in 0..<Self.iterations {
            var record = Self.record(&rng)
            // Keep the generated ids under the length limit.
            record.deviceVendor = String(record.deviceVendor.prefix(8))
            record.deviceProduct = String(record.deviceProduct.prefix(8))
            record.extensions.removeAll { ["rt", "src", "dst", "externalId"].contains($0.key) }
            let signal = try CEFParser.signal(from: Self.line(record)[...], receivedAt: Date(timeIntervalSince1970: 0)).get()
            #expect(signal.source == .firewall, "seed \(seed), iteration \(iteration)")
            #expect(!signal.sourceAlertID.isEmpty)
        }
    }
}
