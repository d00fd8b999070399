import Comments
import Foundation
import Testing
@testable import Moderation

/// The generic webhook's request: Standard Webhooks headers, a signature a receiver can check,
/// and a body with the event as the moderation API shows it.
@Suite struct HookWebhookFormatTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    @Test func headersFollowStandardWebhooksAndTheSignatureCoversIdTimeAndBody() throws {
        let request = try HookSamples.request(HookSamples.hook(.webhook, url: "https://example.org/in", secret: Self.secret))
        #expect(request.method == "POST")
        #expect(request.url == "https://example.org/in")
        #expect(request.header("content-type") == "application/json")
        #expect(request.header("webhook-id") == "msg_2Hm3QxZ8k1VbN5rT0aLp4w")
        // The attempt's time, in seconds; the body's timestamp is the event's.
        #expect(request.header("webhook-timestamp") == String(HookSamples.now / 1000))
        let expected = HookSignature.sign(secret: Self.secret, id: "msg_2Hm3QxZ8k1VbN5rT0aLp4w", timestamp: HookSamples.now / 1000,
                                          body: request.body)
        #expect(request.header("webhook-signature") == expected)
    }

    @Test func theBodyCarriesTypeTimeTheCommentAndFourSignedLinks() throws {
        let request = try HookSamples.request(HookSamples.hook(.webhook, url: "https://example.org/in", secret: Self.secret))
        let body = try HookSamples.json(request)
        #expect(body["type"] as? String == "comment.held")
        #expect(body["timestamp"] as? String == HookText.iso(millis: HookSamples.now - 1000))
        let data = try #require(body["data"] as? [String: Any])
        #expect(Set(data.keys) == ["site", "comment", "actor", "moderator", "previous_status", "links"])
        #expect(data["actor"] as? String == "spam-filter")
        #expect(data["moderator"] is NSNull && data["previous_status"] is NSNull)
        let comment = try #require(data["comment"] as? [String: Any])
        #expect(comment["id"] as? Int == 42 && comment["status"] as? String == "pending")
        #expect(comment["body"] as? String == HookSamples.hostileBody)
        #expect(comment["spam_reasons"] as? [String] == ["2 links", "first comment from this address"])
        // Untrusted: neither the address nor the network.
        #expect(comment["email"] is NSNull && comment["network"] is NSNull)
        let links = try #require(data["links"] as? [String: String])
        #expect(Set(links.keys) == ["approve", "reject", "spam", "delete"])
        #expect(links["approve"]?.hasPrefix("https://comments.example.org/moderate/42/approve?site=blog&exp=") == true)
    }

    @Test func aTrustedHookGetsTheEmailAndNetwork() throws {
        let request = try HookSamples.request(HookSamples.hook(.webhook, url: "https://example.org/in", secret: Self.secret, trusted: true))
        let comment = try #require((try HookSamples.json(request)["data"] as? [String: Any])?["comment"] as? [String: Any])
        #expect(comment["email"] as? String == "mallory@example.net")
        #expect(comment["network"] as? String == "203.0.113.0/24")
    }

    @Test func aDeletedCommentHasNoLinksAndNoText() throws {
        let request = try HookSamples.request(HookSamples.hook(.webhook, url: "https://example.org/in", secret: Self.secret), .deleted)
        let data = try #require(try HookSamples.json(request)["data"] as? [String: Any])
        #expect(data["links"] is NSNull)
        let comment = try #require(data["comment"] as? [String: Any])
        #expect(comment["body"] as? String == "" && comment["author"] is NSNull && comment["status"] as? String == "deleted")
    }

    @Test func aWebhookWithoutAUsableSecretIsNotSent() {
        #expect(throws: HookFailure.self) { try HookSamples.request(HookSamples.hook(.webhook, url: "https://example.org/in")) }
    }

    @Test func timestampsAreISO8601InUTCWithMilliseconds() {
        #expect(HookText.iso(millis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(HookText.iso(millis: 1_614_265_330_123) == "2021-02-25T15:02:10.123Z")
    }
}
