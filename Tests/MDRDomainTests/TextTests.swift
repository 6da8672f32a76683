import Foundation
import Testing

@testable import MDRDomain

/// The standard-library text checks answer as Foundation's `.whitespaces` and `.controlCharacters` do.
@Suite struct TextTests {
    static let samples = [
        "", " ", "\t", "ws-0042", "  ws-0042\t", "\u{00A0}ws 42\u{2003}", "ws\u{0007}42", "ws\u{200B}42", "ws-é42",
        "\u{3000}werkplek\u{3000}", "a\nb", "\n ws ", "🦠 laptop", "ws\u{00AD}1", "x\u{7F}",
    ]

    @Test(arguments: samples)
    func trimmingMatchesFoundation(text: String) {
        #expect(text.trimmingWhitespace == text.trimmingCharacters(in: .whitespaces))
    }

    @Test(arguments: samples)
    func controlCharactersMatchFoundation(text: String) {
        #expect(text.containsControlCharacter == text.unicodeScalars.contains { CharacterSet.controlCharacters.contains($0) })
    }
}
