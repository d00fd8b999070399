import Foundation

/// Atom 1.0 (RFC 4287) feeds of approved comments, with RFC 4685 `thr:in-reply-to` for replies.
public enum AtomFeed {
    /// One entry's worth of data.
    public struct Entry: Sendable {
        public var thread: CommentThread
        public var comment: Comment

        public init(thread: CommentThread, comment: Comment) {
            self.thread = thread
            self.comment = comment
        }
    }

    /// The feed document. `baseURL` (the site's public origin) makes links absolute;
    /// `feedURL` is where the feed itself is served.
    public static func render(site: Site, thread: CommentThread?, entries: [Entry], baseURL: String, feedURL: String, now: Int64) -> String {
        let updated = entries.map { max($0.comment.createdAt, $0.comment.editedAt ?? 0) }.max() ?? thread?.createdAt ?? now
        let title = thread.map { "Comments on \($0.title ?? $0.uri)" } ?? "Comments on \(site.name)"
        let alternate = baseURL + (thread?.uri ?? "/")
        var xml = #"<?xml version="1.0" encoding="utf-8"?>"# + "\n"
        xml += #"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0">"# + "\n"
        xml += "<id>\(escape(tagURI(site: site.id, thread: thread)))</id>\n"
        xml += "<title>\(escape(title))</title>\n"
        xml += "<updated>\(timestamp(updated))</updated>\n"
        xml += "<author><name>\(escape(site.name))</name></author>\n"
        xml += #"<link rel="self" type="application/atom+xml" href="\#(escape(feedURL))"/>"# + "\n"
        xml += #"<link rel="alternate" type="text/html" href="\#(escape(alternate))"/>"# + "\n"
        xml += "<generator>Margin</generator>\n"
        for entry in entries {
            let comment = entry.comment
            let page = baseURL + entry.thread.uri
            let author = comment.author ?? "Anonymous"
            xml += "<entry>\n"
            xml += "<id>\(escape(commentID(site: site.id, id: comment.id)))</id>\n"
            xml += "<title>\(escape("\(author) on \(entry.thread.title ?? entry.thread.uri)"))</title>\n"
            xml += "<published>\(timestamp(comment.createdAt))</published>\n"
            xml += "<updated>\(timestamp(comment.editedAt ?? comment.createdAt))</updated>\n"
            xml += "<author><name>\(escape(author))</name>"
            if let website = comment.website { xml += "<uri>\(escape(website))</uri>" }
            xml += "</author>\n"
            xml += #"<link rel="alternate" type="text/html" href="\#(escape(page + "#margin-comment-\(comment.id)"))"/>"# + "\n"
            if let parent = comment.parentID {
                xml += #"<thr:in-reply-to ref="\#(escape(commentID(site: site.id, id: parent)))" href="\#(escape(page + "#margin-comment-\(parent)"))" type="text/html"/>"# + "\n"
            }
            xml += #"<content type="html">\#(escape(comment.html))</content>"# + "\n"
            xml += "</entry>\n"
        }
        xml += "</feed>\n"
        return xml
    }

    static func tagURI(site: String, thread: CommentThread?) -> String {
        "tag:margin,2026:\(site)" + (thread.map { ":thread:\($0.id)" } ?? "")
    }

    static func commentID(site: String, id: Int64) -> String {
        "tag:margin,2026:\(site):comment:\(id)"
    }

    /// RFC 3339 in UTC with milliseconds.
    static func timestamp(_ millis: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(millis) / 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let millisPart = Int(((millis % 1000) + 1000) % 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                      parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!, millisPart)
    }

    /// XML-escapes text, dropping characters XML 1.0 cannot carry at all.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let value = scalar.value
                if value < 0x20 || value == 0xFFFE || value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
