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
        // The others' URLs carry no credential.
        #expect(HookSamples.hook(.webhook, url: "https://example.org/in?x=1").maskedURL == "https://example.org/in?x=1")
        #expect(HookSamples.hook(.telegram).maskedURL == "https://api.telegram.org")
    }
}
