import Crypto
/// What a moderator (or the spam filter) can do to a comment.
public enum ModerationAction: String, Sendable, Codable, CaseIterable {
    case approve, reject, spam, delete

    /// The status the comment ends in (delete may instead remove the row).
    public var resultingStatus: CommentStatus {
        switch self {
        case .approve: .approved
        case .reject: .rejected
        case .spam: .spam
        case .delete: .deleted
        }
    }
}

/// Who acted, as written to `moderation_log`.
public enum ModerationActor: String, Sendable, Codable, CaseIterable {
    case cli
    case link
    case adminAPI = "admin-api"
    case spamFilter = "spam-filter"
    case author
    case reader
}

/// One line of the audit log.
public struct ModerationLogEntry: Sendable, Equatable, Codable {
    public var id: Int64
    public var commentID: Int64
    public var siteID: String
    /// A `ModerationAction` raw value, or another event such as `held` or `unsubscribe`.
    public var action: String
    public var actor: ModerationActor
    public var reason: String?
    public var at: Int64

    enum CodingKeys: String, CodingKey {
        case id, action, actor, reason, at
        case commentID = "comment_id"
        case siteID = "site"
    }

    public init(id: Int64 = 0, commentID: Int64, siteID: String, action: String, actor: ModerationActor, reason: String?, at: Int64) {
        self.id = id
        self.commentID = commentID
        self.siteID = siteID
        self.action = action
        self.actor = actor
        self.reason = reason
        self.at = at
    }
}

/// What a blocklist entry matches.
public enum BlockKind: String, Sendable, Codable, CaseIterable {
    /// A client address or CIDR range: such clients are refused outright (403).
    case ip
    /// An email address (case-insensitive).
    case email
    /// A domain, matched against email domains, websites and links (subdomains included).
    case domain
    /// A word or phrase in the text or name (case-insensitive, whole words).
    case word
    /// A display name (case-insensitive, exact).
    case author
}

/// One blocklist entry.
public struct BlockEntry: Sendable, Equatable, Codable {
    public var kind: BlockKind
    public var value: String
    public var reason: String?
    public var createdAt: Int64

    public init(kind: BlockKind, value: String, reason: String? = nil, createdAt: Int64 = 0) {
        self.kind = kind
        self.value = value
        self.reason = reason
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case kind, value, reason
        case createdAt = "created_at"
    }
}

/// A mail waiting in (or delivered from) the outbox.
public struct OutgoingMail: Sendable, Equatable {
    /// Why the mail exists.
    public enum Kind: String, Sendable {
        case moderation, reply
        /// The one mail that asks an address whether it wants reply notifications.
        case confirmation
    }

    public var id: Int64
    public var kind: Kind
    public var commentID: Int64?
    public var recipients: [String]
    public var subject: String
    public var body: String
    public var headers: [[String]]
    public var messageID: String
    public var createdAt: Int64
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var sentAt: Int64?
    public var failedAt: Int64?
    public var lastError: String?
    /// For reader mail: at most this many mails to its (one) recipient in any 24 hours; the
    /// store drops the mail instead of queueing one more. Not stored.
    public var dailyCap: Int?

    public init(id: Int64 = 0, kind: Kind, commentID: Int64?, recipients: [String], subject: String, body: String,
                headers: [[String]] = [], messageID: String, createdAt: Int64, attempts: Int = 0, nextAttemptAt: Int64? = nil,
                sentAt: Int64? = nil, failedAt: Int64? = nil, lastError: String? = nil, dailyCap: Int? = nil) {
        self.dailyCap = dailyCap
        self.id = id
        self.kind = kind
        self.commentID = commentID
        self.recipients = recipients
        self.subject = subject
        self.body = body
        self.headers = headers
        self.messageID = messageID
        self.createdAt = createdAt
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt ?? createdAt
        self.sentAt = sentAt
        self.failedAt = failedAt
        self.lastError = lastError
    }
}

/// Everything a mail builder may need about a comment that was just stored or moderated.
public struct MailContext: Sendable {
    public var site: Site
    public var thread: CommentThread
    public var comment: Comment
    /// The comment it replies to, if any.
    public var parent: Comment?
    /// The comment's status before this change (nil for a new comment).
    public var previousStatus: CommentStatus?
    /// Reply-mail consent on this site of the comment's and the parent's addresses (those that
    /// asked to be notified), keyed by `MailAddress.hash`; absent means `unasked`.
    public var consents: [String: ReplyConsent]

    public init(site: Site, thread: CommentThread, comment: Comment, parent: Comment?, previousStatus: CommentStatus?,
                consents: [String: ReplyConsent] = [:]) {
        self.consents = consents
        self.site = site
        self.thread = thread
        self.comment = comment
        self.parent = parent
        self.previousStatus = previousStatus
    }
}

extension MailContext {
    /// What `email` agreed to on this site, as the store read it in this transaction.
    public func consent(for email: String) -> ReplyConsent {
        consents[MailAddress.hash(email)] ?? .unasked
    }
}

/// Whether an address wants reply notifications from one site. Typing an address into the
/// comment form proves nothing, so mail goes only to an address that confirmed through a
/// signed link mailed to it.
public enum ReplyConsent: Sendable, Equatable {
    /// Never asked: the first request sends one confirmation mail.
    case unasked
    /// A confirmation mail was queued at this time (unix ms) and not yet answered.
    case requested(at: Int64)
    /// The address confirmed: reply mail may go to it.
    case confirmed
    /// The address asked for nothing more from this site: no mail of any kind until it confirms again.
    case suppressed

    /// The stored `reply_consent.state` (nil for `unasked`, which has no row).
    public var stateName: String? {
        switch self {
        case .unasked: nil
        case .requested: "requested"
        case .confirmed: "confirmed"
        case .suppressed: "suppressed"
        }
    }

    /// The consent a stored row describes.
    public init(state: String, requestedAt: Int64?) {
        switch state {
        case "confirmed": self = .confirmed
        case "suppressed": self = .suppressed
        default: self = .requested(at: requestedAt ?? 0)
        }
    }
}

/// How addresses are keyed where Margin keeps them apart from comments (consent, the daily
/// cap): the SHA-256 hex of the trimmed, lowercased address, so the suppression list outlives
/// `margin gdpr forget` without keeping the address itself.
public enum MailAddress {
    /// The key of `email`.
    public static func hash(_ email: String) -> String {
        let normalized = email.trimmingASCIIWhitespace().lowercased()
        return Hex.encode(SHA256.hash(data: Array(normalized.utf8)))
    }
}

/// Builds the mails a change causes, inside the transaction that makes the change, so a comment
/// and its notifications are stored together or not at all.
public typealias MailBuilder = @Sendable (MailContext) -> [OutgoingMail]

/// What the store knows about a comment's author and body, for the spam rules.
public struct StoredFacts: Sendable, Equatable {
    /// Approved comments earlier on the site sent with the same author key (none without a key:
    /// an email or name anyone can type earns nothing).
    public var approvedBefore: Int
    /// Comments with the same body on the same site in the window asked for.
    public var duplicates: Int

    public init(approvedBefore: Int, duplicates: Int) {
        self.approvedBefore = approvedBefore
        self.duplicates = duplicates
    }
}

/// Everything the spam rules ask the store about one comment.
public struct ScreeningFacts: Sendable, Equatable {
    public var stored: StoredFacts
    public var blocklist: [BlockEntry]
    public var classifier: ClassifierCounts

    public init(stored: StoredFacts, blocklist: [BlockEntry], classifier: ClassifierCounts) {
        self.stored = stored
        self.blocklist = blocklist
        self.classifier = classifier
    }
}

/// The learned classifier's counts for some features.
public struct ClassifierCounts: Sendable, Equatable {
    public var tokens: [String: (spam: Int, ham: Int)]
    public var spamDocuments: Int
    public var hamDocuments: Int

    public init(tokens: [String: (spam: Int, ham: Int)], spamDocuments: Int, hamDocuments: Int) {
        self.tokens = tokens
        self.spamDocuments = spamDocuments
        self.hamDocuments = hamDocuments
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.spamDocuments == rhs.spamDocuments && lhs.hamDocuments == rhs.hamDocuments
            && lhs.tokens.count == rhs.tokens.count
            && lhs.tokens.allSatisfy { key, value in rhs.tokens[key].map { $0 == value } ?? false }
    }
}

/// How a moderation request ended.
public enum ModerationOutcome: Sendable, Equatable {
    /// The action was applied; the comment as it is now (nil when it was removed).
    case applied(Comment?)
    /// The single-use link was used before; the comment as it is now (nil when gone).
    case linkAlreadyUsed(Comment?)
}

/// Per-site limits on how fast one client may post: e.g. 3 a minute and 20 an hour.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    /// One bucket: `count` comments per `seconds`.
    public struct Window: Sendable, Equatable {
        public var count: Int
        public var seconds: Int

        public init(count: Int, seconds: Int) {
            self.count = count
            self.seconds = seconds
        }
    }

    public var windows: [Window]

    public init(windows: [Window]) { self.windows = windows }

    /// 3 a minute, 20 an hour.
    public static let standard = RateLimit(windows: [Window(count: 3, seconds: 60), Window(count: 20, seconds: 3600)])
    /// No limit (imports, load tests).
    public static let off = RateLimit(windows: [])

    /// Parses `off` or a list like `3/min,20/h` (units s, sec, min, m, h, hour, d, day).
    public init?(parsing text: String) {
        let trimmed = text.trimmingASCIIWhitespace().lowercased()
        if trimmed == "off" || trimmed == "none" {
            windows = []
            return
        }
        var windows: [Window] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/")
            guard pieces.count == 2, let count = Int(String(pieces[0]).trimmingASCIIWhitespace()), count > 0 else { return nil }
            let unit = String(pieces[1]).trimmingASCIIWhitespace()
            let seconds: Int
            switch unit {
            case "s", "sec", "second": seconds = 1
            case "m", "min", "minute": seconds = 60
            case "h", "hour": seconds = 3600
            case "d", "day": seconds = 86_400
            default: return nil
            }
            windows.append(Window(count: count, seconds: seconds))
        }
        guard !windows.isEmpty else { return nil }
        self.windows = windows
    }

    /// The text form `init(parsing:)` reads back.
    public var description: String {
        if windows.isEmpty { return "off" }
        return windows.map { window in
            let unit = switch window.seconds {
            case 86_400: "day"
            case 3600: "h"
            case 60: "min"
            default: "s"
            }
            return "\(window.count)/\(unit)"
        }.joined(separator: ",")
    }
}

/// A key for signing moderation links. The newest unretired key signs; every key verifies.
public struct SigningKey: Sendable, Equatable {
    /// Short public id, carried in links as `kid`.
    public var id: String
    public var secret: [UInt8]
    public var createdAt: Int64
    /// When a newer key took over signing; nil for the current key.
    public var retiredAt: Int64?

    public init(id: String, secret: [UInt8], createdAt: Int64, retiredAt: Int64? = nil) {
        self.id = id
        self.secret = secret
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }
}
