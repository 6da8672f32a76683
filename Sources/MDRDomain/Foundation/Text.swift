/// Text checks on the ingest hot path, in the standard library only: Foundation's `CharacterSet` bridges through
/// `NSString` on Linux and cost a tenth of the service's CPU when every stored device id was checked with it.
extension StringProtocol {
    /// Without leading and trailing spaces and tabs (Unicode space separators and U+0009, as Foundation's
    /// `.whitespaces`). Returns the text unchanged, without copying its scalars, when there is nothing to trim.
    public var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { return "" }
        guard Self.isSpace(first) || Self.isSpace(last) else { return String(self) }
        guard let start = scalars.firstIndex(where: { !Self.isSpace($0) }), let end = scalars.lastIndex(where: { !Self.isSpace($0) }) else {
            return ""
        }
        return String(String.UnicodeScalarView(scalars[start...end]))
    }

    /// Whether the text holds a control or format character (Unicode Cc, Cf: as Foundation's `.controlCharacters`).
    public var containsControlCharacter: Bool {
        if utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) { return false }
        return unicodeScalars.contains { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }
    }

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
    }
}
