import Comments

/// A Slack incoming-webhook message: a fallback `text` and Block Kit blocks (the page and
/// excerpt, the status and score, a button per moderation link). Everything people wrote has
/// `&`, `<`, `>` escaped, Slack's rule, so `<!channel>` in a comment pings nobody.
enum SlackFormat {
    static func request(url: String, _ summary: HookSummary) -> HookRequest {
        HookRequest(url: url, body: body(summary).bytes)
    }

    static func body(_ summary: HookSummary) -> HookJSON {
        let escape = HookText.slack
        let page = summary.pageURL.map { "<\(HookText.linkTarget($0))|\(escape(summary.pageTitle))>" } ?? escape(summary.pageLabel)
        var section = "*\(escape(summary.action)) on \(page)*\n"
        section += "*Author:* \(escape(summary.author))"
        if !summary.excerpt.isEmpty { section += "\n>" + escape(summary.excerpt) }
        var context = "Status: \(summary.statusWord) · \(escape(summary.siteName))"
        if let scoreLine = summary.scoreLine { context += " · " + escape(scoreLine) }
        var blocks: [HookJSON] = [
            .object([("type", "section"), ("text", .object([("type", "mrkdwn"), ("text", .string(HookText.clipped(section, 3000)))]))]),
            .object([("type", "context"), ("elements", .array([.object([("type", "mrkdwn"), ("text", .string(HookText.clipped(context, 3000)))])]))]),
        ]
        if !summary.links.isEmpty {
            blocks.append(.object([("type", "actions"), ("elements", .array(summary.links.map { link in
                var button: [(String, HookJSON)] = [
                    ("type", "button"), ("text", .object([("type", "plain_text"), ("text", .string(link.label))])),
                    ("url", .string(link.url)), ("action_id", .string("margin-\(link.action.rawValue)")),
                ]
                if link.action == .approve { button.append(("style", "primary")) }
                if link.action == .delete { button.append(("style", "danger")) }
                return .object(button)
            }))]))
        }
        return .object([("text", .string(escape(summary.headline))), ("blocks", .array(blocks))])
    }
}
