import Comments

/// A Mattermost incoming-webhook message: one markdown `text`. What people wrote has markdown's
/// special characters escaped and a word joiner after `@`, so `@channel` pings nobody.
enum MattermostFormat {
    static func request(url: String, _ summary: HookSummary) -> HookRequest {
        HookRequest(url: url, body: body(summary).bytes)
    }

    static func body(_ summary: HookSummary) -> HookJSON {
        let escape = HookText.markdown
        let page = summary.pageURL.map { "[\(escape(summary.pageTitle))](\(HookText.linkTarget($0)))" } ?? escape(summary.pageLabel)
        var text = "\(escape(summary.action)) on **\(page)**"
        text += " (\(escape(summary.siteName)))\n"
        text += "**Author:** \(escape(summary.author)) · **Status:** \(summary.statusWord)\n"
        if !summary.excerpt.isEmpty { text += "> \(escape(summary.excerpt))\n" }
        if let scoreLine = summary.scoreLine { text += escape(scoreLine) + "\n" }
        if !summary.links.isEmpty {
            text += summary.links.map { "[\($0.label)](\(HookText.linkTarget($0.url)))" }.joined(separator: " · ") + "\n"
        }
        return .object([("text", .string(HookText.clipped(text, 16_000))), ("username", "Margin")])
    }
}
