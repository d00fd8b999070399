import Crypto

/// The JSON a page receives for its thread: approved comments as a tree of any depth, oldest
/// first on each level, with tombstones where a hidden comment still has visible replies.
public enum ThreadDocument {
    /// The most top-level comments one page may ask for.
    public static let maxLimit = 1000

    /// Encodes the thread. `limit` and `after` (a top-level comment id) page the top level; the
    /// replies of every top-level comment on the page come with it. With `avatars` set to
    /// `.gravatar` each visible comment carries the Gravatar hash of its email.
    public static func encode(
        siteID: String, uri: String, thread: CommentThread?, comments: [Comment], limit: Int?, after: Int64?,
        avatars: AvatarSource = .identicon
    ) throws -> [UInt8] {
        try encodeCounting(siteID: siteID, uri: uri, thread: thread, comments: comments, limit: limit, after: after, avatars: avatars).bytes
    }

    /// `encode`, and how many top-level comments the whole thread has (a comment whose parent is
    /// not shown counts as top-level), as a cache needs to know whether `limit` cut the page.
    public static func encodeCounting(
        siteID: String, uri: String, thread: CommentThread?, comments: [Comment], limit: Int?, after: Int64?,
        avatars: AvatarSource = .identicon
    ) throws -> (bytes: [UInt8], topLevel: Int) {
        var children: [Int64: [Int]] = [:]
        var roots: [Int] = []
        let present = Set(comments.map(\.id))
        var approvedCount = 0
        for (index, comment) in comments.enumerated() {
            if comment.status == .approved { approvedCount += 1 }
            if let parent = comment.parentID, present.contains(parent) {
                children[parent, default: []].append(index)
            } else {
                roots.append(index)
            }
        }
        var start = 0
        if let after {
            guard let position = roots.firstIndex(where: { comments[$0].id == after }) else {
                throw CommentsError.invalidField(field: "after", message: "is not a top-level comment of this thread")
            }
            start = position + 1
        }
        let end = min(roots.count, start + (limit ?? roots.count))
        let page = start < end ? Array(roots[start..<end]) : []

        var json = JSONWriter(capacity: 256 + comments.count * 400)
        json.raw("{")
        json.key("site"); json.string(siteID); json.raw(",")
        json.key("uri"); json.string(uri); json.raw(",")
        json.key("title"); json.string(thread?.title); json.raw(",")
        json.key("locked"); json.bool(thread?.locked ?? false); json.raw(",")
        json.key("total"); json.number(approvedCount); json.raw(",")
        json.key("top_level"); json.number(roots.count); json.raw(",")
        json.key("next_after"); json.number(end < roots.count && !page.isEmpty ? comments[page[page.count - 1]].id : nil)
        json.raw(",")
        json.key("comments"); json.raw("[")
        // An explicit stack of sibling lists keeps depth off the call stack.
        var stack: [(siblings: [Int], next: Int)] = [(page, 0)]
        while !stack.isEmpty {
            let top = stack.count - 1
            let (siblings, next) = stack[top]
            if next == siblings.count {
                stack.removeLast()
                json.raw("]")
                if !stack.isEmpty { json.raw("}") }
                continue
            }
            stack[top].next += 1
            if next > 0 { json.raw(",") }
            let comment = comments[siblings[next]]
            writeFields(of: comment, avatars: avatars, into: &json)
            json.key("replies"); json.raw("[")
            stack.append((children[comment.id] ?? [], 0))
        }
        json.raw("}")
        return (json.bytes, roots.count)
    }

    /// One comment's fields as a reader may see them; hidden ones keep only their place.
    static func writeFields(of comment: Comment, avatars: AvatarSource, into json: inout JSONWriter) {
        json.raw("{")
        json.key("id"); json.number(comment.id); json.raw(",")
        json.key("parent"); json.number(comment.parentID); json.raw(",")
        json.key("created"); json.number(comment.createdAt); json.raw(",")
        guard comment.status == .approved else {
            json.key("deleted"); json.raw("true,")
            return
        }
        json.key("deleted"); json.raw("false,")
        json.key("author"); json.string(comment.author); json.raw(",")
        json.key("website"); json.string(comment.website); json.raw(",")
        json.key("html"); json.string(comment.html, htmlSafe: false); json.raw(",")
        json.key("edited"); json.number(comment.editedAt); json.raw(",")
        json.key("likes"); json.number(comment.likes); json.raw(",")
        json.key("dislikes"); json.number(comment.dislikes); json.raw(",")
        if avatars == .gravatar {
            json.key("gravatar"); json.string(comment.email.map(gravatarHash)); json.raw(",")
        }
    }

    /// Gravatar's key for an email: the SHA-256 of the trimmed, lowercased address, in hex
    /// (Gravatar accepts it in place of the older MD5, which would be cheaper to reverse).
    public static func gravatarHash(_ email: String) -> String {
        Hex.encode(SHA256.hash(data: Array(email.trimmingWhiteSpace().lowercased().utf8)))
    }
}
