import Foundation
import Testing

@testable import MDRDetection

/// TCP framing of RFC 6587: octet counting and LF (non-transparent) framing, detected per message.
@Suite struct SyslogFrameDecoderTests {
    /// Feeds `chunks` one after the other and collects every message and error, then the end of the stream.
    func decode(_ chunks: [[UInt8]], max: Int = 1024) -> (frames: [String], errors: [SyslogFramingError.Code]) {
        var decoder = SyslogFrameDecoder(maxMessageBytes: max)
        var frames: [String] = []
        var errors: [SyslogFramingError.Code] = []
        func drain() {
            while true {
                do {
                    guard let frame = try decoder.next() else { return }
                    frames.append(String(decoding: frame, as: UTF8.self))
                } catch {
                    errors.append(error.code)
                }
            }
        }
        for chunk in chunks {
            decoder.append(chunk)
            drain()
        }
        do {
            if let last = try decoder.finish() { frames.append(String(decoding: last, as: UTF8.self)) }
        } catch {
            errors.append(error.code)
        }
        return (frames, errors)
    }

    func octets(_ message: String) -> String { "\(message.utf8.count) \(message)" }

    static let messages = [
        "<134>1 2026-11-29T10:21:08Z cp-mgmt CheckPoint 2519 - - CEF:0|Check Point|Log|Check Point|Log|Drop|5|src=10.0.0.1",
        "<14>Nov 29 10:15:30 PA-VM CEF:0|Palo Alto Networks|PAN-OS|10.1.0|THREAT|url|8|src=10.0.0.42",
        "<189>CEF:0|Fortinet|Fortigate|v7.2.5|00013|traffic|3|externalId=5663 msg=a line\\nwith an escaped newline",
    ]

    /// The same stream in both framings, mixed per message, with CRLF, NUL and blank lines between messages.
    static var mixedStream: [UInt8] {
        let m = messages
        let text = "\(m[0].utf8.count) \(m[0])" + m[1] + "\r\n" + "\n" + m[2] + "\0" + "\(m[1].utf8.count) \(m[1])\n" + m[0] + "\n"
        return Array(text.utf8)
    }

    static let expected = [messages[0], messages[1], messages[2], messages[1], messages[0]]

    @Test func bothFramingsAreDetectedPerMessage() {
        let result = decode([Self.mixedStream])
        #expect(result.frames == Self.expected)
        #expect(result.errors.isEmpty)
    }

    @Test func aStreamSplitAtEveryByteBoundaryGivesTheSameMessages() {
        let stream = Self.mixedStream
        for cut in 0...stream.count {
            let result = decode([Array(stream[..<cut]), Array(stream[cut...])])
            #expect(result.frames == Self.expected, "split at \(cut)")
            #expect(result.errors.isEmpty, "split at \(cut)")
        }
    }

    @Test func aStreamReadOneByteAtATimeGivesTheSameMessages() {
        let result = decode(Self.mixedStream.map { [$0] })
        #expect(result.frames == Self.expected)
    }

    @Test func anOctetCountAndItsMessageSpanSeveralReads() {
        let m = Self.messages[0]
        let frame = Array(octets(m).utf8)
        // "1" | "09 <134>1 …" | rest: the count itself is cut, then the body arrives in three pieces.
        let result = decode([Array(frame[..<1]), Array(frame[1..<8]), Array(frame[8..<40]), Array(frame[40...])])
        #expect(result.frames == [m])
    }

    @Test func anOctetCountedMessageMayHoldLineEnds() {
        let m = "<13>1 - host app - - - first line\nsecond line"
        #expect(decode([Array(octets(m).utf8)]).frames == [m])
    }

    @Test func aMessageWithoutPriorityThatStartsWithADigitIsALine() {
        #expect(decode([Array("2026-11-29 10:15:30 fw01 hello\n42\n".utf8)]).frames == ["2026-11-29 10:15:30 fw01 hello", "42"])
    }

    @Test func theLastLineWithoutItsLineEndIsDeliveredAtTheEnd() {
        #expect(decode([Array("<13>one\n<13>two".utf8)]).frames == ["<13>one", "<13>two"])
    }

    @Test func aTruncatedOctetCountedMessageIsAnErrorAtTheEnd() {
        let result = decode([Array("100 <13>short".utf8)])
        #expect(result.frames.isEmpty)
        #expect(result.errors == [.truncated])
    }

    @Test func anOversizedOctetCountedMessageIsSkippedAndTheStreamGoesOn() {
        let big = String(repeating: "x", count: 200)
        let stream = Array((octets(big) + octets("<13>after") + "<13>line\n").utf8)
        for cut in [1, 5, 100, stream.count - 3] {
            let result = decode([Array(stream[..<cut]), Array(stream[cut...])], max: 100)
            #expect(result.frames == ["<13>after", "<13>line"], "split at \(cut)")
            #expect(result.errors == [.messageTooLarge], "split at \(cut)")
        }
    }

    @Test func anOversizedLineIsSkippedToItsEnd() {
        let big = "<13>" + String(repeating: "y", count: 300)
        // Arriving whole, and arriving in pieces (the decoder gives up before the line ends, holding at most the limit).
        #expect(decode([Array((big + "\n<13>next\n").utf8)], max: 100) == (["<13>next"], [.messageTooLarge]))
        let pieces = Array((big + "\n<13>next\n").utf8).chunks(of: 64)
        #expect(decode(pieces, max: 100) == (["<13>next"], [.messageTooLarge]))
    }

    @Test func theBufferIsBoundedWhileSkipping() {
        var decoder = SyslogFrameDecoder(maxMessageBytes: 100)
        decoder.append(Array("<13>".utf8))
        for _ in 0..<1000 {
            decoder.append([UInt8](repeating: 0x79, count: 50))
            while (try? decoder.next()) != nil {}
            #expect(decoder.buffer.count <= 250)
        }
    }
}

extension Array {
    func chunks(of size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
