import Comments

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

/// Tunable thresholds of the spam filter (`margin serve --spam-…` flags).
public struct SpamSettings: Sendable, Equatable {
    /// A score at or above this is held for a moderator.
    public var holdScore: Double
    /// A score at or above this is spam: stored, never shown, never mailed.
    public var spamScore: Double
    /// In `auto` mode, a first-time author's comment scoring at least this is held.
    public var doubtfulScore: Double
    /// Faster than this between form render and submit is a bot.
    public var minimumSecondsToSubmit: Int
    /// Comments on threads older than this many days score as doubtful (0 turns the rule off).
    public var oldThreadDays: Int
    /// A form timestamp older than this many hours earns nothing: it counts as none (a bot
    /// cannot keep posting with one harvested form).
    public var formMaxAgeHours: Int

    public init(holdScore: Double = 4, spamScore: Double = 9, doubtfulScore: Double = 2,
                minimumSecondsToSubmit: Int = 3, oldThreadDays: Int = 180, formMaxAgeHours: Int = 24) {
        self.formMaxAgeHours = formMaxAgeHours
        self.holdScore = holdScore
        self.spamScore = spamScore
        self.doubtfulScore = doubtfulScore
        self.minimumSecondsToSubmit = minimumSecondsToSubmit
        self.oldThreadDays = oldThreadDays
    }
}

/// One rule's finding: points (negative ones vouch for the comment) and why, in words.
public struct RuleHit: Sendable, Equatable, Codable {
    /// A stable identifier, e.g. `honeypot`.
    public var rule: String
    public var points: Double
    public var reason: String

    public init(rule: String, points: Double, reason: String) {
        self.rule = rule
        self.points = points
        self.reason = reason
    }
}

/// The filter's conclusion for one comment.
public struct SpamReport: Sendable, Equatable {
    public var hits: [RuleHit]
    public var score: Double
    public var status: CommentStatus

    /// Reasons as stored with the comment: `+3.0 links: 3 links`.
    public var reasons: [String] {
        hits.map { hit in
            let sign = hit.points >= 0 ? "+" : "-"
            return "\(sign)\(String(format: "%.1f", abs(hit.points))) \(hit.rule): \(hit.reason)"
        }
    }
}

import Foundation
