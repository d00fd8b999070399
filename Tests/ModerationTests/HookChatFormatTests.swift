import Comments
import Foundation
import Testing
@testable import Moderation

/// The chat presets' requests: the shape each service documents, the page, author, excerpt,
/// score and links in each, and nothing a commenter wrote able to ping a channel, run a
/// script or fake a link.
@Suite struct HookChatFormatTests {
    static let approve = "https://comments.example.org/moderate/42/approve?site=blog&exp="

    @Test func slackEscapesAmpersandAndAngleBracketsEverywhereAndHasFourButtons() throws {
        let request = try HookSamples.request(HookSamples.hook(.slack))
        #expect(request.method == "POST" && request.url == "https://hooks.example.com/T000/B000/XXXX")
        let body = try HookSamples.json(request)
        let texts = HookSamples.strings(in: body)
        #expect(!texts.contains { $0.contains("<!channel>") || $0.contains("<!here>") || $0.contains("<@U") || $0.contains("<script") })
        #expect((body["text"] as? String)?.contains("Comment held for moderation on “Hello &lt;!here&gt; @everyone”") == true)
        let blocks = try #require(body["blocks"] as? [[String: Any]])
        #expect(blocks.map { $0["type"] as? String } == ["section", "context", "actions"])
        let section = try #require((blocks[0]["text"] as? [String: Any])?["text"] as? String)
        #expect(section.contains("<https://blog.example.org/posts/hello|Hello &lt;!here&gt; @everyone>"))
        #expect(section.contains("*Author:* Mallory &lt;@U999&gt; *star*"))
        #expect(section.contains("\n>&lt;!channel&gt; @everyone @here &lt;script&gt;alert(1)&lt;/script&gt; click bold &lt;@U123&gt;"))
        let context = try #require(((blocks[1]["elements"] as? [[String: Any]])?.first)?["text"] as? String)
        #expect(context.contains("Status: held") && context.contains("Spam score 0.72: 2 links; first comment from this address"))
        let buttons = try #require(blocks[2]["elements"] as? [[String: Any]])
        #expect(buttons.map { ($0["text"] as? [String: Any])?["text"] as? String } == ["Approve", "Reject", "Spam", "Delete"])
        #expect((buttons[0]["url"] as? String)?.hasPrefix(Self.approve) == true)
    }

    @Test func mattermostEscapesMarkdownAndBreaksMentions() throws {
        let request = try HookSamples.request(HookSamples.hook(.mattermost, url: "https://chat.example.org/hooks/abc"))
        let body = try HookSamples.json(request)
        #expect(body["username"] as? String == "Margin")
        let text = try #require(body["text"] as? String)
        #expect(!text.contains("@everyone") && !text.contains("@here") && !text.contains("@channel"))
        #expect(text.contains("@\u{2060}everyone"))
        // The excerpt is the text readers see: the commenter's link is its words only.
        #expect(text.contains(" click bold ") && !text.contains("evil") && !text.contains("<script>"))
        #expect(text.contains("**[Hello \\<\\!here\\> @\u{2060}everyone](https://blog.example.org/posts/hello)**"))
        #expect(text.contains("> \\<\\!channel\\>"))
        #expect(text.contains("[Approve](\(Self.approve)"))
        #expect(text.contains("Spam score 0\\.72"))
    }

    @Test func discordAllowsNoMentionsAndPutsTheLinksInAnEmbed() throws {
        let request = try HookSamples.request(HookSamples.hook(.discord, url: "https://discord.com/api/webhooks/1/abc"))
        let body = try HookSamples.json(request)
        #expect((body["allowed_mentions"] as? [String: Any])?["parse"] as? [Any] != nil)
        #expect(((body["allowed_mentions"] as? [String: Any])?["parse"] as? [Any])?.isEmpty == true)
        #expect(!HookSamples.strings(in: body).contains { $0.contains("@everyone") || $0.contains("@here") })
        let embed = try #require((body["embeds"] as? [[String: Any]])?.first)
        #expect(embed["url"] as? String == "https://blog.example.org/posts/hello")
        #expect((embed["title"] as? String)?.count ?? 0 <= 256)
        #expect(embed["timestamp"] as? String == HookText.iso(millis: HookSamples.now - 1000))
        let description = try #require(embed["description"] as? String)
        #expect(description.contains("\\<script\\>") && !description.contains("<script>"))
        let fields = try #require(embed["fields"] as? [[String: Any]])
        let moderate = try #require(fields.first { $0["name"] as? String == "Moderate" }?["value"] as? String)
        #expect(moderate.hasPrefix("[Approve](\(Self.approve)") && moderate.contains(" · [Delete](") && moderate.count <= 1024)
        #expect(fields.contains { ($0["value"] as? String)?.contains("0\\.72") == true })
    }

    @Test func telegramSendsHTMLWithEscapedTextAndAKeyboardOfLinks() throws {
        let hook = HookSamples.hook(.telegram, target: "-1001234567890", secret: "123456:ABC-def_1")
        let request = try HookSamples.request(hook)
        #expect(request.url == "https://api.telegram.org/bot123456:ABC-def_1/sendMessage")
        let body = try HookSamples.json(request)
        #expect(body["chat_id"] as? Int64 == -1_001_234_567_890)
        #expect(body["parse_mode"] as? String == "HTML")
        #expect((body["link_preview_options"] as? [String: Any])?["is_disabled"] as? Bool == true)
        let text = try #require(body["text"] as? String)
        #expect(text.count <= 4096)
        #expect(text.contains("<a href=\"https://blog.example.org/posts/hello\">Hello &lt;!here&gt; @everyone</a>"))
        #expect(text.contains("<blockquote>&lt;!channel&gt; @everyone @here &lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!text.contains("<script>") && !text.contains("evil.example"))
        let keyboard = try #require((body["reply_markup"] as? [String: Any])?["inline_keyboard"] as? [[[String: Any]]])
        #expect(keyboard.map { $0.map { $0["text"] as? String } } == [["Approve", "Reject"], ["Spam", "Delete"]])
        #expect((keyboard[0][0]["url"] as? String)?.hasPrefix(Self.approve) == true)
        // A channel's @name stays a string.
        let named = try HookSamples.json(try HookSamples.request(HookSamples.hook(.telegram, target: "@mychannel", secret: "1:A")))
        #expect(named["chat_id"] as? String == "@mychannel")
    }

    @Test func telegramPutsLinksToALocalServerInTheTextForItRefusesSuchButtons() throws {
        let hook = HookSamples.hook(.telegram, target: "-100123", secret: "1:A")
        let data = HookSamples.data()
        for base in ["http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080", "http://margin:8080"] {
            let local = HookSettings(publicURL: base, linkLifetimeMillis: 86_400_000)
            let links = HookLink.signed(site: "blog", commentID: 42, signer: LinkSigner(keys: [HookSamples.key]), settings: local,
                                        now: HookSamples.now, random: SystemRandom())
            let request = try HookFormatter.request(hook: hook, delivery: HookSamples.delivery(data: data), data: data, links: links,
                                                    now: HookSamples.now)
            let body = try HookSamples.json(request)
            #expect(body["reply_markup"] == nil, "\(base)")
            let text = try #require(body["text"] as? String)
            #expect(text.contains("<a href=\"\(base)/moderate/42/approve?") && text.contains(">Delete</a>"), "\(base)")
        }
    }

    @Test func matrixPutsAnHTMLMessageWithATransactionIdThatARetryRepeats() throws {
        let hook = HookSamples.hook(.matrix, url: "https://matrix.example.org/", target: "!room:example.org", secret: "syt_token")
        let request = try HookSamples.request(hook)
        #expect(request.method == "PUT")
        #expect(request.url == "https://matrix.example.org/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/h5-msg_2Hm3QxZ8k1VbN5rT0aLp4w")
        #expect(try HookSamples.request(hook).url == request.url)
        #expect(request.header("authorization") == "Bearer syt_token")
        let body = try HookSamples.json(request)
        #expect(body["msgtype"] as? String == "m.text" && body["format"] as? String == "org.matrix.custom.html")
        let html = try #require(body["formatted_body"] as? String)
        #expect(html.contains("&lt;script&gt;") && !html.contains("<script>") && html.contains("<a href=\"https://comments.example.org/moderate/42/approve?site=blog&amp;exp="))
        #expect(!HookSamples.strings(in: body).contains { $0.contains("@everyone") || $0.contains("@here") })
        let plain = try #require(body["body"] as? String)
        #expect(plain.contains("Approve: \(Self.approve)") && plain.contains("Delete: https://comments.example.org/moderate/42/delete?"))
        // An empty mention list: no push rule that matches names in the text applies.
        #expect((body["m.mentions"] as? [String: Any])?.isEmpty == true)
    }

    @Test func ntfyPublishesJSONToTheRootWithThreeActionsAndEveryLinkInTheText() throws {
        let hook = HookSamples.hook(.ntfy, target: "margin-alerts", secret: "tk_abc")
        let request = try HookSamples.request(hook)
        #expect(request.method == "POST" && request.url == "https://ntfy.sh")
        #expect(request.header("authorization") == "Bearer tk_abc")
        let body = try HookSamples.json(request)
        #expect(body["topic"] as? String == "margin-alerts")
        #expect(body["title"] as? String == "Blog & <Friends>: comment held for moderation on Hello <!here> @everyone")
        #expect(body["click"] as? String == "https://blog.example.org/posts/hello")
        #expect(body["priority"] as? Int == 4)
        #expect(body["tags"] as? [String] == ["speech_balloon", "warning"])
        let actions = try #require(body["actions"] as? [[String: Any]])
        #expect(actions.map { $0["label"] as? String } == ["Approve", "Reject", "Spam"])
        #expect(actions.allSatisfy { $0["action"] as? String == "view" && $0["clear"] as? Bool == true })
        let message = try #require(body["message"] as? String)
        #expect(message.contains("Delete: https://comments.example.org/moderate/42/delete?") && message.contains("Spam score 0.72"))
        // Without a token, no authorization header; a published comment is not urgent.
        let open = try HookSamples.request(HookSamples.hook(.ntfy, target: "t"), .published, status: .approved)
        #expect(open.header("authorization") == nil)
        let published = try HookSamples.json(open)
        #expect(published["priority"] as? Int == 3 && published["tags"] as? [String] == ["speech_balloon"])
    }

    @Test(arguments: [Hook.Preset.slack, .mattermost, .discord, .telegram, .matrix, .ntfy])
    func aDeletionCarriesNoLinksAndNoText(preset: Hook.Preset) throws {
        let hook = HookSamples.hook(preset, url: preset.defaultURL ?? "https://chat.example.org/in", target: preset.needsTarget ? "!r:x" : nil,
                                    secret: preset.needsToken ? "1:A" : nil)
        let request = try HookSamples.request(hook, .deleted, status: .deleted)
        let texts = HookSamples.strings(in: try HookSamples.json(request))
        #expect(!texts.contains { $0.contains("/moderate/") || $0.contains("alert(1)") }, "\(texts)")
        #expect(texts.contains { $0.contains("Comment deleted") || $0.contains("comment deleted") })
    }

    @Test(arguments: Hook.Preset.allCases)
    func aPageOnASiteWithoutAFixedOriginIsNamedByItsPathNotLinkedToTheCommentServer(preset: Hook.Preset) throws {
        // Only `*` origins: the page's address is unknown, and the comment server's would be a 404.
        let site = Site(id: "blog", name: "Blog", origins: ["https://*.example.org"])
        let data = HookEventData(type: .held, site: site, thread: HookSamples.thread, comment: HookSamples.comment(), actor: .spamFilter,
                                 moderator: nil, previousStatus: nil, trusted: false)
        let hook = HookSamples.hook(preset, url: preset.defaultURL ?? "https://chat.example.org/in", target: preset.needsTarget ? "!r:x" : nil,
                                    secret: preset == .webhook ? HookWebhookFormatTests.secret : preset.needsToken ? "1:A" : nil)
        let request = try HookFormatter.request(hook: hook, delivery: HookSamples.delivery(data: data), data: data, links: HookSamples.links,
                                                now: HookSamples.now)
        let body = try HookSamples.json(request)
        let texts = HookSamples.strings(in: body)
        #expect(!texts.contains { $0.contains("comments.example.org/posts/hello") }, "\(texts)")
        #expect(texts.contains { $0.contains("/posts/hello") }, "\(texts)")
        #expect(body["click"] == nil && (body["embeds"] as? [[String: Any]])?.first?["url"] == nil)
        // The moderation links still point at the comment server.
        #expect(texts.contains { $0.contains("https://comments.example.org/moderate/42/approve?") })
    }

    @Test func anExcerptIsPlainTextCutOnAWord() {
        let long = String(repeating: "word ", count: 100)
        let excerpt = HookText.excerpt(long)
        #expect(excerpt.count <= 300 && excerpt.hasSuffix("word…"))
        #expect(HookText.excerpt("short") == "short")
        #expect(HookText.plain(html: "<p>a &amp; b</p><p>c&#39;d &#x1F600;</p>") == "a & b c'd 😀")
        #expect(HookText.plain(html: "<p>in<strong>line</strong> <a href=\"https://x\">link</a><br>next</p>") == "inline link next")
    }

    @Test func headlinesSayWhatHappenedInPlainWords() throws {
        let cases: [(HookEventType, CommentStatus, String)] = [
            (.published, .approved, "New comment on"), (.held, .pending, "Comment held for moderation on"),
            (.spam, .spam, "Comment marked as spam on"), (.approved, .approved, "Comment approved on"),
            (.rejected, .rejected, "Comment rejected on"), (.edited, .approved, "Comment edited on"),
        ]
        for (type, status, words) in cases {
            let text = try HookSamples.json(try HookSamples.request(HookSamples.hook(.slack), type, status: status))["text"] as? String
            #expect(text?.hasPrefix(words) == true, "\(type): \(text ?? "")")
        }
    }
}
