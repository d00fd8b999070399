import Comments
import Foundation

/// Everything the spam rules look at, gathered before any rule runs (by the store and the
/// request), so that every rule is a pure function of these facts.
public struct SpamFacts: Sendable {
    public var text: String
    public var author: String?
    public var email: String?
    public var website: String?
    /// The honeypot field as submitted (people never fill it).
    public var honeypot: String?
    /// Whether a form timestamp was sent at all, and the moment it proves (nil when forged).
    public var formTimestampSent: Bool
    public var formRenderedAt: Int64?
    public var now: Int64
    /// Links in the text plus the website, and their hosts.
    public var linkCount: Int
    public var linkHosts: [String]
    /// Blocklist entries this comment matches (ip entries are enforced before scoring).
    public var blocklistHits: [BlockEntry]
    /// The same body on the same site in the last 24 hours.
    public var duplicates: Int
    /// When the thread was created (nil for a new thread).
    public var threadCreatedAt: Int64?
    /// Earlier approved comments on the site sent with this comment's author key (0 without one).
    public var approvedBefore: Int
    /// The learned classifier's P(spam), nil when it has not been trained.
    public var spamProbability: Double?
    /// True when re-judging an edit (the form timestamp rules do not apply).
    public var isEdit: Bool

    public init(text: String, author: String? = nil, email: String? = nil, website: String? = nil, honeypot: String? = nil,
                formTimestampSent: Bool = false, formRenderedAt: Int64? = nil, now: Int64 = 0, linkCount: Int = 0,
                linkHosts: [String] = [], blocklistHits: [BlockEntry] = [], duplicates: Int = 0, threadCreatedAt: Int64? = nil,
                approvedBefore: Int = 0, spamProbability: Double? = nil, isEdit: Bool = false) {
        self.text = text
        self.author = author
        self.email = email
        self.website = website
        self.honeypot = honeypot
        self.formTimestampSent = formTimestampSent
        self.formRenderedAt = formRenderedAt
        self.now = now
        self.linkCount = linkCount
        self.linkHosts = linkHosts
        self.blocklistHits = blocklistHits
        self.duplicates = duplicates
        self.threadCreatedAt = threadCreatedAt
        self.approvedBefore = approvedBefore
        self.spamProbability = spamProbability
        self.isEdit = isEdit
    }
}
