import Comments
import Foundation
import Testing
@testable import Moderation

/// Standard Webhooks signatures, against the specification's own example.
@Suite struct HookSignatureTests {
    @Test func theSpecificationsExampleVectorSignsAlike() {
        let signature = HookSignature.sign(
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
            body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func anyChangeToIdTimeOrBodyChangesTheSignature() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let good = HookSignature.sign(secret: secret, id: "msg_1", timestamp: 100, body: body)
        #expect(HookSignature.sign(secret: secret, id: "msg_2", timestamp: 100, body: body) != good)
        #expect(HookSignature.sign(secret: secret, id: "msg_1", timestamp: 101, body: body) != good)
        #expect(HookSignature.sign(secret: secret, id: "msg_1", timestamp: 100, body: body + [32]) != good)
    }

    @Test func aNewSecretIsWhsecAnd32RandomBytes() throws {
        let secret = HookSignature.makeSecret(random: SystemRandom())
        #expect(secret.hasPrefix("whsec_"))
        let bytes = try #require(Data(base64Encoded: String(secret.dropFirst(6))))
        #expect(bytes.count == 32)
        #expect(HookSignature.makeSecret(random: SystemRandom()) != secret)
        #expect(HookSignature.sign(secret: secret, id: "msg_x", timestamp: 1, body: []) != nil)
    }

    @Test func aSecretThatIsNotBase64SignsNothing() {
        #expect(HookSignature.sign(secret: "whsec_not base64!", id: "msg_x", timestamp: 1, body: []) == nil)
        #expect(HookSignature.sign(secret: "whsec_", id: "msg_x", timestamp: 1, body: []) == nil)
    }
}
