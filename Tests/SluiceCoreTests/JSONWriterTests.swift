import Foundation
import Testing
@testable import SluiceCore

@Suite struct JSONWriterTests {
    /// Whatever the text, what is written parses back (JSONSerialization) to the same value.
    @Test func stringsAndBytesRoundTripThroughAJSONParser() throws {
        let texts = ["plain", "ok\n", "\"6b0f5be6-3\"", "back\\slash", "tab\tcr\rff\u{0C}bs\u{08}", "nul\u{0}bell\u{07}\u{1F}",
                     "ünïcødé ✓ 🚀", "", "\u{2028}"]
        for text in texts {
            let written = JSONText.object(["s": .string(text), "b": .utf8(Array(text.utf8)[...])])
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: String])
            #expect(parsed["s"] == text, "\(written)")
            #expect(parsed["b"] == text, "\(written)")
        }
        #expect(JSONText.quote("a\"b\n\u{1}") == #""a\"b\n\u0001""#)
    }

    /// Bytes that are not UTF-8 (a binary body) are repaired as a String would repair them.
    @Test func invalidUTF8BytesBecomeReplacementCharacters() throws {
        let bytes: [UInt8] = [0x61, 0xFF, 0x62, 0xC3]
        let written = JSONText.object(["b": .utf8(bytes[...])])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: String])
        #expect(parsed["b"] == String(decoding: bytes, as: UTF8.self))
    }

    @Test func numbersAndLiterals() {
        #expect(JSONText.object(["i": .int(-42), "z": .int(0), "max": .int(Int.max), "min": .int(Int.min), "t": .bool(true), "n": .null])
                == #"{"i":-42,"z":0,"max":9223372036854775807,"min":-9223372036854775808,"t":true,"n":null}"#)
    }
}
