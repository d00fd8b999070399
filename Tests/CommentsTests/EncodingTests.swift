import Foundation
import Testing
@testable import Comments

/// The hand-written encoders agree with Foundation on every length and byte.
@Suite struct EncodingTests {
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

    @Test func hexMatchesFormat() {
        let bytes = (0...255).map(UInt8.init)
        #expect(Hex.encode(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
        #expect(Hex.encode([UInt8]()) == "")
    }

    @Test func systemRandomGivesTheLengthAskedAndDiffers() {
        for count in [0, 1, 7, 8, 9, 32, 33] {
            #expect(SystemRandom().bytes(count).count == count)
        }
        let a = SystemRandom().bytes(32), b = SystemRandom().bytes(32)
        #expect(a != b)
        #expect(Set(SystemRandom().bytes(4096)).count > 200, "every byte value is possible")
    }
}
