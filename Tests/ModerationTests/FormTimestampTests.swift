import Comments
import Testing
@testable import Moderation

/// The widget's signed render time.
@Suite struct FormTimestampTests {
    let signer = FormTimestamp(secret: Array(repeating: 7, count: 32))

    @Test func verifiesWhatItSigned() {
        let token = signer.sign(millis: 1_790_000_000_123, site: "blog")
        #expect(token.hasPrefix("1790000000123."))
        #expect(signer.verify(token, site: "blog") == 1_790_000_000_123)
    }

    @Test func rejectsForgeriesAndOtherSites() {
        let token = signer.sign(millis: 1_790_000_000_123, site: "blog")
        #expect(signer.verify(token, site: "other") == nil)
        #expect(signer.verify("1790000000124" + token.drop(while: { $0 != "." }), site: "blog") == nil)
        #expect(FormTimestamp(secret: Array(repeating: 8, count: 32)).verify(token, site: "blog") == nil)
        for garbage in [nil, "", ".", "abc.def", "123", "123.", "123.!!!", token + "x"] {
            #expect(signer.verify(garbage, site: "blog") == nil)
        }
    }
}
