import Foundation

/// Streams the threads and comments of a WordPress eXtended RSS (WXR 1.0–1.2) export.
///
/// `wp:` elements are matched by local name in any WordPress export namespace
/// (`http[s]://wordpress.org/export/<version>/`), RSS elements (`item`, `title`, `link`, `guid`)
/// in no namespace. Each `<item>` is a thread, except non-page post types (attachments, menu
/// items, revisions, templates, …) without comments, which produce no event. A thread is reported
/// before its first comment, so fields an item lists after its comments are not seen. The file is
/// read as a stream, so memory stays flat whatever its size.
public struct WXRReader: Sendable {
    /// The export file.
    public let url: URL

    /// Creates a reader for the export at `url` (a file URL).
    public init(url: URL) {
        self.url = url
    }

    /// Calls `handle` for every thread and comment in file order; throws `ImportError` (with the
    /// parser's line and column) on malformed XML, and rethrows whatever `handle` throws.
    ///
    /// Pingbacks, trackbacks and other non-comment types are always reported as
    /// `.skipped(reason: type)`. With `skipInvalid`, records that are structurally invalid (a
    /// comment without `wp:comment_id`, an unparsable date) are reported as `.skipped` instead of
    /// throwing; malformed XML still throws.
    ///
    /// Dates come from `*_date_gmt`; when that is missing or `0000-00-00 00:00:00`, the local
    /// `*_date` is read as if it were UTC (the export does not say the site's time zone).
    public func read(skipInvalid: Bool, _ handle: (ImportEvent) throws -> Void) throws {
        try withoutActuallyEscaping(handle) { handle in
            let builder = WXRRecordBuilder(skipInvalid: skipInvalid, emit: handle)
            try ImportXMLDriver.run(url: url, builder: builder)
        }
    }

    /// Whether `uri` is a WordPress export namespace: `http[s]://wordpress.org/export/<version>/`
    /// (the trailing slash optional), and not one of its sub-namespaces such as `…/excerpt/`.
    static func isExportNamespace(_ uri: String) -> Bool {
        var rest = Substring(uri)
        if rest.hasPrefix("https://") {
            rest = rest.dropFirst(8)
        } else if rest.hasPrefix("http://") {
            rest = rest.dropFirst(7)
        } else {
            return false
        }
        if rest.hasPrefix("www.") { rest = rest.dropFirst(4) }
        guard rest.hasPrefix("wordpress.org/export/") else { return false }
        rest = rest.dropFirst("wordpress.org/export/".count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        return !rest.isEmpty && rest.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
    }
}

/// Turns the elements of a WXR export into `ImportEvent`s, one item and comment at a time.
private final class WXRRecordBuilder: ImportRecordBuilder {
    /// Post types that are not pages readers comment on; such items become threads only when
    /// they carry comments.
    private static let nonContentTypes: Set<String> = [
        "attachment", "nav_menu_item", "revision", "custom_css", "customize_changeset", "oembed_cache",
        "user_request", "wp_block", "wp_template", "wp_template_part", "wp_global_styles",
        "wp_navigation", "wp_font_family", "wp_font_face",
    ]
    private static let rssItemFields: Set<String> = ["title", "link", "guid"]
    private static let wpItemFields: Set<String> = ["post_id", "post_date", "post_date_gmt", "post_name", "status",
                                                    "post_type", "comment_status"]
    private static let wpCommentFields: Set<String> = [
        "comment_id", "comment_author", "comment_author_email", "comment_author_url", "comment_author_ip",
        "comment_date", "comment_date_gmt", "comment_content", "comment_approved", "comment_type",
        "comment_parent",
    ]

    /// The item being read: its fields as text, and its thread key once reported.
    private struct Item {
        var start: ImportPosition
        var ordinal: Int
        var fields: [String: String] = [:]
        var threadKey: String?
    }

    /// The comment being read, as text; checked when it ends.
    private struct CommentDraft {
        var start: ImportPosition
        var fields: [String: String] = [:]
    }

    private let skipInvalid: Bool
    private let emit: (ImportEvent) throws -> Void
    private var inChannel = false
    private var itemCount = 0
    private var item: Item?
    private var comment: CommentDraft?
    private var lastNamespace: (uri: String, isExport: Bool) = ("", false)

    init(skipInvalid: Bool, emit: @escaping (ImportEvent) throws -> Void) {
        self.skipInvalid = skipInvalid
        self.emit = emit
    }

    func didStart(_ name: ImportElementName, depth: Int, attributes: ImportAttributes,
                  at position: ImportPosition) throws -> Bool {
        let isWP = isExportNamespace(name.namespace)
        switch depth {
        case 1:
            guard name.local == "rss", name.namespace.isEmpty else {
                throw ImportError(message: "not a WordPress export (WXR): the root element is <\(name.local)>",
                                  line: position.line, column: position.column)
            }
        case 2:
            inChannel = name.local == "channel" && name.namespace.isEmpty
        case 3:
            if inChannel, name.local == "item", name.namespace.isEmpty {
                itemCount += 1
                item = Item(start: position, ordinal: itemCount)
            } else {
                item = nil
            }
        case 4:
            guard item != nil else { return false }
            if isWP, name.local == "comment" {
                try reportThreadIfNeeded()
                comment = CommentDraft(start: position)
                return false
            }
            comment = nil
            if name.namespace.isEmpty { return Self.rssItemFields.contains(name.local) }
            return isWP && Self.wpItemFields.contains(name.local)
        case 5:
            return comment != nil && isWP && Self.wpCommentFields.contains(name.local.lowercased())
        default:
            break
        }
        return false
    }

    func didEnd(_ name: ImportElementName, depth: Int, text: String?) throws {
        switch depth {
        case 3:
            guard let current = item else { return }
            if current.threadKey == nil, !Self.nonContentTypes.contains(postType(current)) {
                try reportThreadIfNeeded()
            }
            item = nil
        case 4:
            if let finished = comment {
                comment = nil
                try finish(finished)
            } else if let text, item != nil {
                // RSS and wp: names of item fields do not overlap.
                item?.fields[name.local] = text
            }
        case 5:
            if let text, comment != nil { comment?.fields[name.local.lowercased()] = text }
        default:
            break
        }
    }

    /// `WXRReader.isExportNamespace`, remembering the last answer: a file uses one or two namespaces.
    private func isExportNamespace(_ uri: String) -> Bool {
        if uri.isEmpty { return false }
        if uri != lastNamespace.uri {
            lastNamespace = (uri, WXRReader.isExportNamespace(uri))
        }
        return lastNamespace.isExport
    }

    private func postType(_ item: Item) -> String {
        ImportField.scalar(item.fields["post_type"])?.lowercased() ?? "post"
    }

    /// A record that cannot be imported, and why.
    private struct Invalid: Error {
        var reason: String
    }

    /// Reports the current item's thread unless already done; fixes the key its comments use.
    private func reportThreadIfNeeded() throws {
        guard let current = item, current.threadKey == nil else { return }
        let fields = current.fields
        let link = ImportField.scalar(fields["link"])
        let guid = ImportField.scalar(fields["guid"])
        let key = ImportField.scalar(fields["post_id"]) ?? link ?? guid ?? "item-\(current.ordinal)"
        item?.threadKey = key
        do {
            var identifiers: [String] = []
            if let name = ImportField.scalar(fields["post_name"]) { identifiers.append(name) }
            if let guid, guid != link { identifiers.append(guid) }
            let thread = ImportedThread(
                key: key,
                link: link,
                identifiers: identifiers,
                title: ImportField.scalar(fields["title"]),
                createdAt: try Self.date(gmt: fields["post_date_gmt"], local: fields["post_date"],
                                         field: "post_date", record: "item \(key)"),
                isClosed: ImportField.scalar(fields["comment_status"])?.lowercased() == "closed",
                isDeleted: ImportField.scalar(fields["status"])?.lowercased() == "trash")
            try emit(.thread(thread))
        } catch let invalid as Invalid {
            try reject(invalid, at: current.start)
        }
    }

    private func finish(_ draft: CommentDraft) throws {
        let fields = draft.fields
        let type = ImportField.scalar(fields["comment_type"])?.lowercased() ?? "comment"
        guard type == "comment" else {
            try emit(.skipped(reason: type, line: draft.start.line))
            return
        }
        do {
            guard let key = ImportField.scalar(fields["comment_id"]) else {
                throw Invalid(reason: "comment without wp:comment_id")
            }
            guard let threadKey = item?.threadKey else {
                throw Invalid(reason: "comment \(key) outside an item")
            }
            let parent = ImportField.scalar(fields["comment_parent"])
            let post = ImportedPost(
                key: key,
                threadKey: threadKey,
                parentKey: parent == "0" ? nil : parent,
                authorName: ImportField.scalar(fields["comment_author"]),
                authorEmail: ImportField.scalar(fields["comment_author_email"]),
                authorURL: ImportField.scalar(fields["comment_author_url"]),
                ip: ImportField.scalar(fields["comment_author_ip"]),
                html: fields["comment_content"] ?? "",
                createdAt: try Self.date(gmt: fields["comment_date_gmt"], local: fields["comment_date"],
                                         field: "comment_date", record: "comment \(key)"),
                status: Self.status(fields["comment_approved"]),
                likes: 0,
                dislikes: 0)
            try emit(.post(post))
        } catch let invalid as Invalid {
            try reject(invalid, at: draft.start)
        }
    }

    private func reject(_ invalid: Invalid, at start: ImportPosition) throws {
        guard skipInvalid else {
            throw ImportError(message: invalid.reason, line: start.line, column: start.column)
        }
        try emit(.skipped(reason: invalid.reason, line: start.line))
    }

    /// `comment_approved`: `1` approved, `spam`, `trash`/`post-trashed` deleted; `0`, empty, missing
    /// or anything else pending (WordPress itself shows only `1` to readers).
    private static func status(_ text: String?) -> ImportedStatus {
        switch ImportField.scalar(text)?.lowercased() {
        case "1", "approve", "approved": return .approved
        case "spam": return .spam
        case "trash", "post-trashed": return .deleted
        default: return .pending
        }
    }

    /// The GMT date if known, else the local one read as UTC; nil when neither is known.
    private static func date(gmt: String?, local: String?, field: String, record: String) throws -> Int64? {
        for (text, name) in [(gmt, field + "_gmt"), (local, field)] {
            guard let value = ImportField.scalar(text), !value.hasPrefix("0000-00-00") else { continue }
            guard let millis = ImportField.timestamp(value) else {
                throw Invalid(reason: "\(record): unparsable \(name) \"\(value)\"")
            }
            return millis
        }
        return nil
    }
}
