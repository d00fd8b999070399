import Comments

/// An ntfy message, published as JSON to the server's root: the topic, a title, the text with
/// every link, the page as its click target, and view actions for approve, reject and spam
/// (ntfy shows three; delete is in the text).
enum NtfyFormat {
    static func request(hook: Hook, _ summary: HookSummary) throws -> HookRequest {
        guard let topic = hook.target else { throw HookFailure("the ntfy hook has no topic") }
        let headers = hook.secret.map { [("authorization", "Bearer \($0)")] } ?? []
        return HookRequest(url: hook.url, headers: headers, body: body(topic: topic, summary).bytes)
    }

    static func body(topic: String, _ summary: HookSummary) -> HookJSON {
        var message = "Author: \(summary.author) · Status: \(summary.statusWord)\n"
        if !summary.excerpt.isEmpty { message += "“\(summary.excerpt)”\n" }
        if let scoreLine = summary.scoreLine { message += scoreLine + "\n" }
        if !summary.links.isEmpty { message += "\n" + summary.links.map { "\($0.label): \($0.url)" }.joined(separator: "\n") }
        var tags: [HookJSON] = ["speech_balloon"]
        if summary.needsAttention { tags.append("warning") }
        let title = "\(summary.siteName): \(summary.action.prefix(1).lowercased() + summary.action.dropFirst()) on \(summary.pageLabel)"
        var members: [(String, HookJSON)] = [
            ("topic", .string(topic)),
            ("title", .string(HookText.clipped(title, 250))),
            ("message", .string(HookText.clipped(message, 4000))),
            ("tags", .array(tags)),
            ("priority", .int(summary.needsAttention ? 4 : 3)),
        ]
        if let pageURL = summary.pageURL { members.insert(("click", .string(pageURL)), at: 3) }
        let actions = summary.links.filter { $0.action != .delete }.prefix(3).map { link in
            HookJSON.object([("action", "view"), ("label", .string(link.label)), ("url", .string(link.url)), ("clear", true)])
        }
        if !actions.isEmpty { members.append(("actions", .array(Array(actions)))) }
        return .object(members)
    }
}
