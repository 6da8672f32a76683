@testable import MDRServer
import Testing

/// A key named twice in one object is found, wherever it is and however it is escaped; everything else is left alone.
@Suite struct JSONDuplicateKeysTests {
    func find(_ text: String) -> String? { JSONDuplicateKeys.find(in: Array(text.utf8))?.path }

    @Test func duplicatesAreFoundWithTheirPath() {
        #expect(find(#"{"a": 1, "a": 2}"#) == "a")
        #expect(find(#"{"signals": [{"title": "x"}, {"title": "y", "severity": "low", "title": "z"}]}"#) == "signals[1].title")
        #expect(find(#"{"a": {"b": {"c": 1, "c": 1}}}"#) == "a.b.c")
        #expect(find(#"[{"id": 1}, {"id": 2, "id": 3}]"#) == "[1].id")
        // Escapes name the same key: "a" and "\u0061"; "é" and "\u00e9"; a surrogate pair and the scalar it names.
        #expect(find(#"{"a": 1, "\u0061": 2}"#) == "a")
        #expect(find(#"{"é": 1, "\u00e9": 2}"#) == "é")
        #expect(find(#"{"😀": 1, "\ud83d\ude00": 2}"#) == "😀")
        // NDJSON: each line on its own.
        #expect(find("{\"id\": 1}\n{\"id\": 2, \"x\": 1, \"x\": 2}\n") == "x")
    }

    @Test func distinctKeysStringsThatLookLikeKeysAndNonJSONAreLeftAlone() {
        #expect(find(#"{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}"#) == nil)
        // Values are not keys, even when they repeat a key or hold quotes, braces and commas.
        #expect(find(#"{"a": "a", "b": "\"a\": 1, {\"a\": 2}", "c": ["a", "a"]}"#) == nil)
        #expect(find(#"{"a\"b": 1, "a\\b": 2, "ab": 3}"#) == nil)
        // The same key in two lines of NDJSON, in two objects of an array: no duplicate.
        #expect(find("{\"id\": 1}\n{\"id\": 2}") == nil)
        #expect(find(#"[{"id": 1}, {"id": 2}]"#) == nil)
        // Not JSON, or cut short: left to the parser.
        #expect(find(#"{"a": 1, "a"#) == nil)
        #expect(find("") == nil)
        #expect(find("}}]]") == nil)
    }
}
