import Foundation

/// Splits a SQL script into statements, since PostgreSQL's extended query protocol (which PostgresNIO uses) runs
/// one statement at a time. Aware of quoted strings, quoted identifiers, dollar-quoted bodies and comments.
enum SQLScript {
    static func statements(_ script: String) -> [String] {
        let chars = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var i = 0
        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty && !text.allSatisfy({ $0 == ";" }) { statements.append(text) }
            current = String.UnicodeScalarView()
        }
        func starts(_ s: String, at index: Int) -> Bool {
            let u = Array(s.unicodeScalars)
            return index + u.count <= chars.count && Array(chars[index..<index + u.count]) == u
        }
        while i < chars.count {
            let c = chars[i]
            if starts("--", at: i) {
                while i < chars.count && chars[i] != "\n" { i += 1 }
                continue
            }
            if starts("/*", at: i) {
                i += 2
                while i < chars.count && !starts("*/", at: i) { i += 1 }
                i += 2
                continue
            }
            if c == "'" || c == "\"" {
                current.append(c)
                i += 1
                while i < chars.count {
                    current.append(chars[i])
                    if chars[i] == c {
                        if i + 1 < chars.count && chars[i + 1] == c {
                            current.append(chars[i + 1])
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    i += 1
                }
                continue
            }
            if c == "$" {
                // A dollar-quote tag: $$ or $tag$.
                var j = i + 1
                while j < chars.count && (chars[j].properties.isAlphabetic || chars[j] == "_" || ("0"..."9").contains(chars[j])) { j += 1 }
                if j < chars.count && chars[j] == "$" {
                    let tag = String(String.UnicodeScalarView(chars[i...j]))
                    current.append(contentsOf: chars[i...j])
                    i = j + 1
                    while i < chars.count && !starts(tag, at: i) {
                        current.append(chars[i])
                        i += 1
                    }
                    current.append(contentsOf: tag.unicodeScalars)
                    i += tag.unicodeScalars.count
                    continue
                }
            }
            if c == ";" {
                flush()
                i += 1
                continue
            }
            current.append(c)
            i += 1
        }
        flush()
        return statements
    }
}
