/// Finds the first object in a JSON text that names a key twice. JSON parsers disagree on such objects (Foundation's
/// takes one occurrence, most others the last; RFC 8259 §4 leaves it open and I-JSON, RFC 7493 §2.3, forbids it), so a
/// request that carries one is refused rather than read one way here and another way by whoever sent or signed it.
///
/// One pass over the bytes, no allocation for values; keys are compared after unescaping (`"a"` and `"\u0061"` are the
/// same key). Several top-level values in a row (NDJSON) are scanned one after another. Text that is not JSON is left to
/// the parser that reads the request: the scan then stops without a finding.
enum JSONDuplicateKeys {
    /// Where the duplicate is: `signals[3].title`, or `title` at the top level.
    struct Finding: Equatable, CustomStringConvertible {
        var path: String
        var description: String { path }
    }

    private enum Frame {
        case object(keys: Set<String>, current: String?)
        case array(index: Int)
    }

    static func find(in bytes: some Collection<UInt8>) -> Finding? {
        let found: Finding?? = bytes.withContiguousStorageIfAvailable { scan($0) }
        if let found { return found }
        return Array(bytes).withUnsafeBufferPointer { scan($0) }
    }

    private static func scan(_ text: UnsafeBufferPointer<UInt8>) -> Finding? {
        var stack: [Frame] = []
        var index = 0
        // True where a string in an object is a key (after `{` or `,`), not a value.
        var expectingKey = false
        while index < text.count {
            let byte = text[index]
            switch byte {
            case UInt8(ascii: "{"):
                stack.append(.object(keys: [], current: nil))
                expectingKey = true
                index += 1
            case UInt8(ascii: "["):
                stack.append(.array(index: 0))
                expectingKey = false
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard !stack.isEmpty else { return nil }
                stack.removeLast()
                expectingKey = false
                index += 1
            case UInt8(ascii: ","):
                switch stack.last {
                case .object?: expectingKey = true
                case .array(let n)?: stack[stack.count - 1] = .array(index: n + 1)
                case nil: return nil
                }
                index += 1
            case UInt8(ascii: "\""):
                guard let (string, end) = readString(text, from: index + 1, decoding: expectingKey) else { return nil }
                if expectingKey, case .object(var keys, _)? = stack.last {
                    let key = string ?? ""
                    if keys.contains(key) { return Finding(path: path(stack.dropLast(), then: key)) }
                    keys.insert(key)
                    stack[stack.count - 1] = .object(keys: keys, current: key)
                    expectingKey = false
                }
                index = end
            default:
                index += 1
            }
        }
        return nil
    }

    /// Reads the string whose first character is at `start`; returns its unescaped text (only when `decoding`) and the
    /// index after its closing quote, or nil for an unterminated string or a bad escape.
    private static func readString(_ text: UnsafeBufferPointer<UInt8>, from start: Int, decoding: Bool) -> (String?, Int)? {
        var index = start
        var plain = true
        while index < text.count {
            switch text[index] {
            case UInt8(ascii: "\""):
                guard decoding else { return (nil, index + 1) }
                if plain { return (String(decoding: UnsafeBufferPointer(rebasing: text[start..<index]), as: UTF8.self), index + 1) }
                guard let unescaped = unescape(UnsafeBufferPointer(rebasing: text[start..<index])) else { return nil }
                return (unescaped, index + 1)
            case UInt8(ascii: "\\"):
                plain = false
                index += 2
            default:
                index += 1
            }
        }
        return nil
    }

    private static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
        var scalars = String.UnicodeScalarView()
        var bytes: [UInt8] = []
        func flush() {
            if !bytes.isEmpty { scalars.append(contentsOf: String(decoding: bytes, as: UTF8.self).unicodeScalars) }
            bytes.removeAll(keepingCapacity: true)
        }
        func hex(_ at: Int) -> UInt32? {
            guard at + 4 <= raw.count else { return nil }
            return UInt32(String(decoding: UnsafeBufferPointer(rebasing: raw[at..<at + 4]), as: UTF8.self), radix: 16)
        }
        var index = 0
        while index < raw.count {
            guard raw[index] == UInt8(ascii: "\\") else {
                bytes.append(raw[index])
                index += 1
                continue
            }
            guard index + 1 < raw.count else { return nil }
            flush()
            let escape = raw[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                guard var value = hex(index) else { return nil }
                index += 4
                // A surrogate pair names one scalar; a lone surrogate stands for U+FFFD, as parsers replace it.
                if (0xD800..<0xDC00).contains(value), index + 6 <= raw.count, raw[index] == UInt8(ascii: "\\"),
                    raw[index + 1] == UInt8(ascii: "u"), let low = hex(index + 2), (0xDC00..<0xE000).contains(low)
                {
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            default:
                return nil
            }
        }
        flush()
        return String(scalars)
    }

    private static func path(_ frames: ArraySlice<Frame>, then key: String) -> String {
        var path = ""
        for frame in frames {
            switch frame {
            case .object(_, let current): path += path.isEmpty ? (current ?? "") : ".\(current ?? "")"
            case .array(let index): path += "[\(index)]"
            }
        }
        return path.isEmpty ? key : "\(path).\(key)"
    }
}
