import Comments

/// A Discord webhook message: a one-line `content` and an embed (the page as title and link,
/// the excerpt, author, status, score and the moderation links). `allowed_mentions` is empty,
/// so no text in it can mention anyone, and what people wrote is markdown-escaped besides.
enum DiscordFormat {
    static func request(url: String, _ summary: HookSummary) -> HookRequest {
        HookRequest(url: url, body: body(summary).bytes)
    }

    static func body(_ summary: HookSummary) -> HookJSON {
        let escape = HookText.markdown
        var fields: [HookJSON] = [
            field("Author", escape(summary.author), inline: true),
            field("Status", summary.statusWord, inline: true),
            field("Site", escape(summary.siteName), inline: true),
        ]
        if let scoreLine = summary.scoreLine { fields.append(field("Spam score", HookText.clipped(escape(scoreLine), 500), inline: false)) }
        if !summary.links.isEmpty {
            let links = summary.links.map { "[\($0.label)](\(HookText.linkTarget($0.url)))" }
            fields.append(field("Moderate", links.joined(separator: " · "), inline: false))
        }
        var members: [(String, HookJSON)] = [("title", .string(HookText.clipped(HookText.unmentioned(summary.pageLabel), 256)))]
        if let pageURL = summary.pageURL { members.append(("url", .string(pageURL))) }
        let embed: HookJSON = .object(members + [
            ("description", .string(HookText.clipped(escape(summary.excerpt), 4096))),
            ("fields", .array(fields)),
            ("timestamp", .string(HookText.iso(millis: summary.eventTime))),
            // Amber for a comment waiting or taken for spam, grey for the rest.
            ("color", .int(summary.needsAttention ? 0xE0A030 : 0x808890)),
        ])
        return .object([
            ("content", .string(HookText.clipped(escape(summary.headline), 2000))),
            ("embeds", .array([embed])),
            ("allowed_mentions", .object([("parse", .array([]))])),
        ])
    }

    /// A field: name ≤ 256 and value ≤ 1024 characters, Discord's limits.
    private static func field(_ name: String, _ value: String, inline: Bool) -> HookJSON {
        .object([("name", .string(name)), ("value", .string(HookText.clipped(value.isEmpty ? "-" : value, 1024))), ("inline", .bool(inline))])
    }
}
