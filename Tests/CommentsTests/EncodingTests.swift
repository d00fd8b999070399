import Foundation
import Testing
@testable import Comments

/// The hand-written encoders agree with Foundation on every length and byte.
@Suite struct EncodingTests {
    /// Given random bytes of every length up to 100, Base64URL encodes as Foundation does, unpadded, and decodes back.
    @Test func base64URLMatchesFoundationAndDecodesBack() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...100 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
                let expected = Data(bytes).base64EncodedString()
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
                let encoded = Base64URL.encode(bytes)
                #expect(encoded == expected)
                #expect(Base64URL.decode(encoded) == bytes)
            }
        }
    }

    /// Every byte value comes out as `%02x` would write it.
    @Test func hexMatchesFormat() {
        let bytes = (0...255).map(UInt8.init)
        #expect(Hex.encode(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
        #expect(Hex.encode([UInt8]()) == "")
    }

    /// System randomness gives the length asked, and every byte value can come.
    @Test func systemRandomGivesTheLengthAskedAndDiffers() {
        for count in [0, 1, 7, 8, 9, 32, 33] {
            #expect(SystemRandom().bytes(count).count == count)
        }
        let a = SystemRandom().bytes(32), b = SystemRandom().bytes(32)
        #expect(a != b)
        #expect(Set(SystemRandom().bytes(4096)).count > 200, "every byte value is possible")
    }

    /// Given string arrays as the store writes them (spam reasons), both the fast path and the
    /// decoder read them back; the fast path takes exactly the arrays written without escapes.
    @Test func stringArraysReadBackAsFoundationReadsThem() throws {
        // Quotes, backslashes and control characters are written escaped and take the decoder's
        // path; everything else (non-ASCII too) takes the fast path, which must not decline it.
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "Z", "0", ":", " ", ",", "[", "]", "\"", "\\", "/", "\n", "\u{1}", "é", "😀"]
        let escaped: Set<Character> = ["\"", "\\", "\n", "\u{1}"]
        var fast = 0
        for _ in 0..<2_000 {
            let strings = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                String((0..<Int.random(in: 0...6, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            }
            let text = JSONText.encode(strings)
            #expect(JSONText.decode(text) == strings, "\(text)")
            if strings.joined().contains(where: escaped.contains) {
                #expect(JSONText.plainStrings(text) == nil, "escapes are the decoder's: \(text)")
            } else {
                // nil here (the fast path declining) fails too.
                #expect(JSONText.plainStrings(text) == strings, "the fast path did not read \(text)")
                fast += 1
            }
        }
        #expect(fast > 0, "no array without escapes came up: the fast path was never tried")
        #expect(JSONText.plainStrings(#"["links:3","shouting"]"#) == ["links:3", "shouting"])
        #expect(JSONText.plainStrings("[]") == [])
        #expect(JSONText.plainStrings(#"[""]"#) == [""])
        // Anything else is the decoder's: whitespace, escapes, a trailing comma, other JSON, no JSON.
        for other in [#"[ "a" ]"#, #"["a", "b"]"#, #"["a\"b"]"#, #"["a",]"#, #"["a""b"]"#, #"["a"#, #"[1]"#, "[", "", "{}", #""a""#] {
            #expect(JSONText.plainStrings(other) == nil, "\(other)")
            let expected = (try? JSONDecoder().decode([String].self, from: Data(other.utf8))) ?? []
            #expect(JSONText.decode(other) == expected, "\(other)")
        }
    }
}
