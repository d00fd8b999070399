import Comments
import Foundation

/// A Telegram Bot API `sendMessage` to the hook's chat: HTML text (what people wrote escaped)
/// and an inline keyboard with a URL button per moderation link.
enum TelegramFormat {
    static func request(hook: Hook, _ summary: HookSummary) throws -> HookRequest {
        guard let token = hook.secret, let target = hook.target else { throw HookFailure("the Telegram hook has no bot token or chat") }
        return HookRequest(url: HookURL.joined(hook.url, "/bot\(token)/sendMessage"), body: body(chat: target, summary).bytes)
    }

    static func body(chat: String, _ summary: HookSummary) -> HookJSON {
        let escape = HookText.html
        let title = escape(HookText.clipped(summary.pageURL == nil ? summary.pageLabel : summary.pageTitle, 300))
        let page = summary.pageURL.map { "<a href=\"\(escape($0))\">\(title)</a>" } ?? title
        var text = "<b>\(escape(summary.action))</b> on \(page)"
        text += " (\(escape(summary.siteName)))\n"
        text += "<b>Author:</b> \(escape(summary.author)) · <b>Status:</b> \(summary.statusWord)\n"
        if !summary.excerpt.isEmpty { text += "<blockquote>\(escape(summary.excerpt))</blockquote>\n" }
        if let scoreLine = summary.scoreLine { text += "<i>\(escape(HookText.clipped(scoreLine, 1000)))</i>\n" }
        var members: [(String, HookJSON)] = [
            ("chat_id", Int64(chat).map(HookJSON.int) ?? .string(chat)),
            ("text", .string(text)),
            ("parse_mode", "HTML"),
            ("link_preview_options", .object([("is_disabled", true)])),
        ]
        if !summary.links.isEmpty, !summary.links.allSatisfy({ buttonable($0.url) }) {
            // Telegram refuses the whole message when a button's URL is not a public address.
            text += summary.links.map { "<a href=\"\(escape($0.url))\">\(escape($0.label))</a>" }.joined(separator: " · ")
            members[1] = ("text", .string(text))
        } else if !summary.links.isEmpty {
            let buttons = summary.links.map { HookJSON.object([("text", .string($0.label)), ("url", .string($0.url))]) }
            let rows = stride(from: 0, to: buttons.count, by: 2).map { HookJSON.array(Array(buttons[$0..<min($0 + 2, buttons.count)])) }
            members.append(("reply_markup", .object([("inline_keyboard", .array(rows))])))
        }
        return .object(members)
    }

    /// Whether Telegram takes `url` on an inline button: https or http to a dotted name that is
    /// not an IP address (it refuses `localhost` and bare addresses there, not in text).
    static func buttonable(_ url: String) -> Bool {
        guard let host = URL(string: url)?.host(percentEncoded: false)?.lowercased(), host.contains("."),
              !host.hasSuffix(".localhost"), host.rangeOfCharacter(from: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz")) != nil,
              !host.contains(":")
        else { return false }
        return true
    }
}
