import Comments
import Foundation

/// What every chat message says about an event, before a preset shapes and escapes it: the
/// headline, the page, the author, an excerpt, the status, the spam score with its reasons
/// (held and spam comments), and the signed links. Its texts are as people wrote them: each
/// preset escapes them for its service.
struct HookSummary: Sendable {
    var type: HookEventType
    var siteName: String
    var pageTitle: String
    /// The page's address on the site; nil when the site names no fixed origin (its address is
    /// then unknown: the comment server's own would be no page).
    var pageURL: String?
    /// The page's path on the site.
    var pageURI: String
    var author: String
    var excerpt: String
    var status: CommentStatus
    /// `0.85`, for held and spam comments only.
    var score: String?
    var reasons: [String]
    var links: [HookLink]
    /// When the event happened (unix ms).
    var eventTime: Int64
    /// A sample sent by `margin hooks test`.
    var isTest: Bool

    init(data: HookEventData, type: HookEventType, eventTime: Int64, links: [HookLink], isTest: Bool) {
        let comment = data.comment
        self.type = type
        siteName = data.site.name
        let title = HookText.folded(comment.thread.title ?? "")
        pageTitle = title.isEmpty ? comment.thread.uri : title
        pageURL = comment.thread.url
        pageURI = comment.thread.uri
        let name = HookText.folded(comment.author ?? "")
        author = name.isEmpty ? (type == .deleted ? "(removed)" : "Anonymous") : name
        let plain = HookText.plain(html: comment.html)
        excerpt = HookText.excerpt(plain.isEmpty ? HookText.folded(comment.body) : plain)
        status = comment.status
        let doubtful = comment.status == .pending || comment.status == .spam
        score = doubtful ? String(format: "%.2f", comment.spamScore) : nil
        reasons = doubtful ? comment.spamReasons : []
        self.links = links
        self.eventTime = eventTime
        self.isTest = isTest
    }

    /// The summary with `transform` applied to every text people wrote (site, page, author,
    /// excerpt, reasons).
    func mapTexts(_ transform: (String) -> String) -> HookSummary {
        var copy = self
        copy.siteName = transform(siteName)
        copy.pageTitle = transform(pageTitle)
        copy.pageURI = transform(pageURI)
        copy.author = transform(author)
        copy.excerpt = transform(excerpt)
        copy.reasons = reasons.map(transform)
        return copy
    }

    /// The event in plain words, without the page: "New comment held for moderation".
    var action: String {
        if isTest { return "Test from Margin: a sample held comment" }
        return switch type {
        case .published: "New comment"
        case .held: "Comment held for moderation"
        case .spam: "Comment marked as spam"
        case .approved: "Comment approved"
        case .rejected: "Comment rejected"
        case .deleted: "Comment deleted"
        case .edited: "Comment edited"
        }
    }

    /// The page as text where no link can be made: its title and path (the path alone when it
    /// has no title).
    var pageLabel: String { pageURL != nil || pageTitle == pageURI ? pageTitle : "\(pageTitle) (\(pageURI))" }

    /// The event and the page in one line: `Comment held for moderation on “Hello”`.
    var headline: String { "\(action) on “\(pageTitle)”" }

    /// The status in words: `held`, `published`, `rejected`, `spam`, `deleted`.
    var statusWord: String {
        switch status {
        case .pending: "held"
        case .approved: "published"
        case .rejected: "rejected"
        case .spam: "spam"
        case .deleted: "deleted"
        }
    }

    /// `Spam score 0.85: reason; reason`, for held and spam comments; nil for the others.
    var scoreLine: String? {
        guard let score else { return nil }
        return "Spam score \(score)" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; "))
    }

    /// Whether the comment is waiting or was taken for spam (chats then mark the message).
    var needsAttention: Bool { status == .pending || status == .spam }
}
