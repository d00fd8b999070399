import Comments
import Foundation
import Testing
@testable import Moderation

/// Shared events, hooks and helpers for the hook tests: a comment written to cause trouble
/// in every chat (mentions, HTML, markdown), on a site and page whose names do too.
enum HookSamples {
    static let now: Int64 = 1_790_000_000_000
    static let settings = HookSettings(publicURL: "https://comments.example.org", linkLifetimeMillis: 7 * 86_400_000)
    static let key = SigningKey(id: "k1", secret: Array(repeating: 7, count: 32), createdAt: 0)

    /// What a hostile commenter writes: channel-wide mentions in Slack's, Discord's and
    /// Mattermost's forms, a script, a markdown link and bold text.
    static let hostileBody = "<!channel> @everyone @here <script>alert(1)</script> [click](http://evil.example) **bold** <@U123>"
    static let hostileHTML = "<p>&lt;!channel&gt; @everyone @here &lt;script&gt;alert(1)&lt;/script&gt; "
        + "<a href=\"http://evil.example\">click</a> <strong>bold</strong> &lt;@U123&gt;</p>"

    static let site = Site(id: "blog", name: "Blog & <Friends>", origins: ["https://blog.example.org"])
    static let thread = CommentThread(id: 7, siteID: "blog", uri: "/posts/hello", title: "Hello <!here> @everyone", locked: false,
                                      createdAt: 0, version: 1)

    static func comment(status: CommentStatus = .pending, body: String = hostileBody, html: String = hostileHTML) -> Comments.Comment {
        Comments.Comment(id: 42, threadID: 7, status: status, author: "Mallory <@U999> *star*", email: "mallory@example.net",
                website: "https://mallory.example", body: body, html: html, createdAt: now - 5000, ip: "203.0.113.0",
                spamScore: 0.72, spamReasons: ["2 links", "first comment from this address"])
    }

    static func data(_ type: HookEventType = .held, status: CommentStatus = .pending, trusted: Bool = false,
                     body: String = hostileBody, html: String = hostileHTML) -> HookEventData {
        HookEventData(type: type, site: site, thread: thread, comment: comment(status: status, body: body, html: html),
                      actor: .spamFilter, moderator: nil, previousStatus: nil, trusted: trusted)
    }

    static func delivery(_ type: HookEventType = .held, data: HookEventData? = nil, hookID: Int64 = 5, commentID: Int64? = 42) -> HookDelivery {
        HookDelivery(id: 9, hookID: hookID, eventID: "msg_2Hm3QxZ8k1VbN5rT0aLp4w", type: type, commentID: commentID, siteID: "blog",
                     payload: (data ?? Self.data(type)).json(), createdAt: now - 1000)
    }

    static func hook(_ preset: Hook.Preset, url: String? = nil, target: String? = nil, secret: String? = nil, trusted: Bool = false) -> Hook {
        Hook(id: 5, name: "test", siteID: nil, preset: preset, url: url ?? preset.defaultURL ?? "https://hooks.example.com/T000/B000/XXXX",
             target: target, secret: secret, events: HookEventType.allCases, trusted: trusted, createdAt: 0)
    }

    static let links = HookLink.signed(site: "blog", commentID: 42, signer: LinkSigner(keys: [key]), settings: settings, now: now,
                                       random: SystemRandom())

    /// The request `hook` gets for an event of `type` (with links unless it is a deletion).
    static func request(_ hook: Hook, _ type: HookEventType = .held, status: CommentStatus = .pending) throws -> HookRequest {
        let data = data(type, status: status, trusted: hook.trusted)
        return try HookFormatter.request(hook: hook, delivery: delivery(type, data: data), data: data,
                                         links: type == .deleted ? [] : links, now: now)
    }

    /// The body parsed as a JSON object; fails the test when it is not one.
    static func json(_ request: HookRequest) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
    }

    /// Every string anywhere in a JSON value, for "nothing in it says X" checks.
    static func strings(in value: Any) -> [String] {
        switch value {
        case let text as String: [text]
        case let array as [Any]: array.flatMap(strings)
        case let object as [String: Any]: object.values.flatMap(strings)
        default: []
        }
    }
}
