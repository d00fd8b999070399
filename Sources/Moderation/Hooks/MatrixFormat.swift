import Comments
import Foundation

/// A Matrix room message through the client-server API: `PUT …/rooms/{room}/send/m.room.message/{txn}`
/// with the hook's access token; a plain `body` and an HTML `formatted_body` (what people wrote
/// escaped, `@` unable to mention), each with the links.
enum MatrixFormat {
    static func request(hook: Hook, eventID: String, _ summary: HookSummary) throws -> HookRequest {
        guard let token = hook.secret, let room = hook.target else { throw HookFailure("the Matrix hook has no access token or room") }
        let transaction = HookURL.segment(transactionID(hookID: hook.id, eventID: eventID))
        let path = "/_matrix/client/v3/rooms/\(HookURL.segment(room))/send/m.room.message/\(transaction)"
        return HookRequest(method: "PUT", url: HookURL.joined(hook.url, path), headers: [("authorization", "Bearer \(token)")],
                           body: body(summary).bytes)
    }

    /// The transaction id: the same on every retry, so the homeserver sends the message once.
    /// It carries the hook's id because the homeserver scopes these ids to the access token,
    /// and two hooks (two rooms) may share one.
    static func transactionID(hookID: Int64, eventID: String) -> String {
        "h\(hookID)-\(eventID)"
    }

    static func body(_ summary: HookSummary) -> HookJSON {
        // `@room` in a message notifies the whole room when the sender may do that.
        let summary = summary.mapTexts(HookText.unmentioned)
        let escape = HookText.html
        var plain = "\(summary.headline) (\(summary.siteName))\n\(summary.pageURL ?? summary.pageURI)\nAuthor: \(summary.author) · Status: \(summary.statusWord)\n"
        let page = summary.pageURL.map { "<a href=\"\(escape($0))\">\(escape(summary.pageTitle))</a>" } ?? escape(summary.pageLabel)
        var html = "<b>\(escape(summary.action))</b> on \(page)"
        html += " (\(escape(summary.siteName)))<br>"
        html += "<b>Author:</b> \(escape(summary.author)) · <b>Status:</b> \(summary.statusWord)<br>"
        if !summary.excerpt.isEmpty {
            plain += "> \(summary.excerpt)\n"
            html += "<blockquote>\(escape(summary.excerpt))</blockquote>"
        }
        if let scoreLine = summary.scoreLine {
            plain += scoreLine + "\n"
            html += "<i>\(escape(scoreLine))</i><br>"
        }
        if !summary.links.isEmpty {
            plain += summary.links.map { "\($0.label): \($0.url)" }.joined(separator: "\n") + "\n"
            html += summary.links.map { "<a href=\"\(escape($0.url))\">\($0.label)</a>" }.joined(separator: " · ")
        }
        return .object([
            ("msgtype", "m.text"), ("body", .string(plain)),
            ("format", "org.matrix.custom.html"), ("formatted_body", .string(html)),
            // An explicit empty mention list: clients and push rules that go by it notify no one,
            // and the legacy rules that match display names in the text no longer apply.
            ("m.mentions", .object([])),
        ])
    }
}
