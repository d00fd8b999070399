import Comments
import Testing
@testable import Moderation

/// What lists show of a hook's credentials: never enough to use them.
@Suite struct HookMaskTests {
    @Test func secretsAndTokensShowOnlyTheirLastFourCharacters() {
        var hook = HookSamples.hook(.webhook, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(hook.maskedSecret == "whsec_…LaSw")
        hook = HookSamples.hook(.telegram, target: "1", secret: "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11")
        #expect(hook.maskedSecret == "…ew11")
        // Too short to show any of it.
        hook.secret = "tk_short"
        #expect(hook.maskedSecret == "…")
        hook.secret = nil
        #expect(hook.maskedSecret == nil)
    }

    @Test func aURLThatIsItselfTheCredentialShowsOnlyItsHost() {
        #expect(HookSamples.hook(.slack, url: "https://hooks.slack.com/services/T000/B000/XXXXXXXX").maskedURL == "https://hooks.slack.com/…")
        #expect(HookSamples.hook(.discord, url: "https://discord.com/api/webhooks/1/tok").maskedURL == "https://discord.com/…")
        #expect(HookSamples.hook(.mattermost, url: "http://chat.local:8065/hooks/abc").maskedURL == "http://chat.local:8065/…")
        // The others' URLs carry no credential in their path.
        #expect(HookSamples.hook(.webhook, url: "https://example.org/in").maskedURL == "https://example.org/in")
        #expect(HookSamples.hook(.telegram).maskedURL == "https://api.telegram.org")
        #expect(HookSamples.hook(.matrix, url: "https://matrix.example.org:8448").maskedURL == "https://matrix.example.org:8448")
    }

    @Test func aWebhookURLsQueryOftenATokenIsNotShown() {
        #expect(HookSamples.hook(.webhook, url: "https://example.org/in?token=s3cret&x=1").maskedURL == "https://example.org/in?…")
        #expect(HookSamples.hook(.webhook, url: "http://10.0.0.5:8080/hooks/margin?key=abc#frag").maskedURL == "http://10.0.0.5:8080/hooks/margin?…")
        #expect(HookSamples.hook(.webhook, url: "https://example.org/in#frag").maskedURL == "https://example.org/in")
    }

    @Test func anNtfyTopicIsAPasswordAndShowsOnlyItsLastFourCharacters() {
        #expect(HookSamples.hook(.ntfy, target: "margin-alerts-k3y9").maskedTarget == "…k3y9")
        // Too short to spare any of it.
        #expect(HookSamples.hook(.ntfy, target: "alerts").maskedTarget == "…")
        // A chat or room id is no secret.
        #expect(HookSamples.hook(.telegram, target: "-1001234567890").maskedTarget == "-1001234567890")
        #expect(HookSamples.hook(.matrix, target: "!room:example.org").maskedTarget == "!room:example.org")
        #expect(HookSamples.hook(.webhook).maskedTarget == nil)
    }
}
