import Foundation
import MDRDomain

/// Pure redaction of content that may only be stored in a redacted form (DOMAIN.md, "Privacy"): command lines lose
/// their secrets, URLs lose their query strings, fragments and passwords. Over-redaction is preferred to a leak: the
/// port of `ssh -p 22` is redacted along with the password of `psexec -p secret`.
///
/// The functions are idempotent: scrubbing a scrubbed value changes nothing.
public enum ContentScrubber {
    /// What replaces a secret.
    public static let redacted = "[REDACTED]"

    /// The command line with secrets replaced by `[REDACTED]`: values of secret-named switches (`-Password x`,
    /// `--token=…`, `/p:…`, `-EncodedCommand …`), `key=value` secrets (`pwd=…;`), `Bearer`/`Basic` credentials,
    /// `ConvertTo-SecureString "…"`, the password of `net user NAME PASSWORD` and `net use SHARE PASSWORD`, passwords
    /// in URLs, and URL query strings and fragments.
    public static func redactCommandLine(_ commandLine: String) -> String {
        var s = commandLine
        for rule in rules { s = rule.apply(to: s) }
        return s
    }

    /// The URL without its query string, fragment and password: `https://u:p@host/a?b#c` → `https://u@host/a`.
    /// Text that is not an absolute URL is returned with everything from the first `?` or `#` removed.
    public static func strippingQuery(fromURL url: String) -> String {
        var s = url
        if let cut = s.firstIndex(where: { $0 == "?" || $0 == "#" }) { s = String(s[..<cut]) }
        if let scheme = s.range(of: "://") {
            let authorityEnd = s[scheme.upperBound...].firstIndex(of: "/") ?? s.endIndex
            let authority = s[scheme.upperBound..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userInfo = authority[..<at]
                let user = userInfo.firstIndex(of: ":").map { userInfo[..<$0] } ?? userInfo
                s.replaceSubrange(scheme.upperBound..<at, with: user)
            }
        }
        return s
    }

    // MARK: Rules

    /// A pattern and what replaces each match: `$1`… are its groups, `[R]` the redaction marker.
    struct Rule: @unchecked Sendable {
        // `Regex` is not declared Sendable; a rule is immutable and only used for matching.
        let regex: Regex<AnyRegexOutput>
        let template: String

        init(_ pattern: String, _ template: String) {
            regex = try! Regex(pattern).ignoresCase()
            self.template = template
        }

        func apply(to s: String) -> String {
            s.replacing(regex) { match in
                // Expand the template in one pass, so that a group's text is never expanded again.
                var out = ""
                var rest = template[...]
                while let c = rest.first {
                    if c == "$", let digit = rest.dropFirst().first?.wholeNumberValue, digit < match.output.count {
                        out += match.output[digit].substring ?? ""
                        rest = rest.dropFirst(2)
                    } else if rest.hasPrefix("[R]") {
                        out += ContentScrubber.redacted
                        rest = rest.dropFirst(3)
                    } else {
                        out.append(c)
                        rest = rest.dropFirst()
                    }
                }
                return out
            }
        }
    }

    static let value = #"("[^"]*"|'[^']*'|[^\s"']+)"#
    static let secretNames =
        "password|passwd|pwd|pass|secret|token|accesstoken|access-token|apikey|api-key|api_key|accesskey|access-key|"
        + "clientsecret|client-secret|credential|key|sas|sig|p|encodedcommand|enc|ec"

    static let rules: [Rule] = [
        // Passwords in URLs: scheme://user:password@host
        Rule(#"([a-z][a-z0-9+.-]*://[^\s/:@"']+):[^\s/@"']+@"#, "$1:[R]@"),
        // Query strings and fragments of URLs.
        Rule(#"([a-z][a-z0-9+.-]*://[^\s?#"']*)[?#][^\s"']*"#, "$1?[R]"),
        // Authorization credentials.
        Rule(#"\b(bearer|basic)(\s+)[a-z0-9._~+/=-]+"#, "$1$2[R]"),
        // Secret-named switches: -Password x, --token=x, /p:x, -EncodedCommand x.
        Rule(#"((?:^|\s)(?:--?|/)(?:"# + secretNames + #"))(\s*[:=]\s*|\s+)"# + value, "$1$2[R]"),
        // Secret-named key=value pairs, as in connection strings: Password=x; pwd=x&
        Rule(#"\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret|sig)(\s*=\s*)("[^"]*"|'[^']*'|[^\s;&"']+)"#, "$1$2[R]"),
        // PowerShell plain-text secure strings: ConvertTo-SecureString "x" -AsPlainText
        Rule(#"(ConvertTo-SecureString\s+(?:-String\s+)?)"# + value, "$1[R]"),
        // net user NAME PASSWORD, net use SHARE PASSWORD
        Rule(#"(\bnet1?(?:\.exe)?\s+(?:user|use)\s+[^\s/]\S*\s+)(?![/\[])"# + value, "$1[R]"),
    ]
}
