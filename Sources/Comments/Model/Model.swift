import Foundation

/// Where a comment stands in its life: only `approved` is shown to readers.
public enum CommentStatus: String, Sendable, Codable, CaseIterable {
    case pending, approved, rejected, spam, deleted
}

/// How strictly a site holds new comments for a moderator.
public enum ModerationMode: String, Sendable, Codable, CaseIterable {
    /// Publish whatever the spam filter lets through.
    case none
    /// Hold first-time authors whose comment has a link or a doubtful score.
    case auto
    /// Hold every comment.
    case all
}

/// Where the widget gets a commenter's picture.
public enum AvatarSource: String, Sendable, Codable, CaseIterable {
    /// Drawn in the browser from a hash of the name: no request leaves for another host.
    case identicon
    /// Gravatar's picture for the commenter's email (the thread JSON then carries a SHA-256 of
    /// each email), falling back to the identicon; off by default because the reader's browser
    /// then talks to gravatar.com.
    case gravatar
}

/// A blog served by this Margin instance.
public struct Site: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Origins allowed to embed and post, e.g. `https://blog.example.org` or `http://localhost:*`.
    public var origins: [String]
    public var moderation: ModerationMode
    public var requireAuthor: Bool
    public var requireEmail: Bool
    public var createdAt: Int64
    /// How fast one client may post; nil means the server's default.
    public var rateLimit: RateLimit?
    /// How fast one client network may vote; nil means the server's default (`vote_rate_limit`).
    public var voteRateLimit: RateLimit?
    /// Who gets mail about held comments (the server's default moderators when empty).
    public var moderators: [String]
    public var avatars: AvatarSource

    public init(
        id: String, name: String, origins: [String], moderation: ModerationMode = .none,
        requireAuthor: Bool = false, requireEmail: Bool = false, createdAt: Int64 = 0,
        rateLimit: RateLimit? = nil, moderators: [String] = [], avatars: AvatarSource = .identicon, voteRateLimit: RateLimit? = nil
    ) {
        self.avatars = avatars
        self.rateLimit = rateLimit
        self.voteRateLimit = voteRateLimit
        self.moderators = moderators
        self.id = id
        self.name = name
        self.origins = origins
        self.moderation = moderation
        self.requireAuthor = requireAuthor
        self.requireEmail = requireEmail
        self.createdAt = createdAt
    }

    /// The site a fresh database starts with, so a quick start works with no configuration.
    public static func embeddedDefault(createdAt: Int64) -> Site {
        Site(id: "default", name: "Margin", origins: ["http://localhost:*", "http://127.0.0.1:*"], moderation: .none, createdAt: createdAt)
    }

    /// Whether a browser `Origin` header value is one of this site's origins (`*` matches any port).
    public func allows(origin: String) -> Bool {
        let candidate = origin.lowercased()
        return origins.contains { OriginPattern.matches(pattern: $0.lowercased(), origin: candidate) }
    }
}

/// Matching of `scheme://host[:port]` origins against patterns whose port may be `*`.
enum OriginPattern {
    /// True when `origin` equals `pattern`, or the pattern ends in `:*` and the origin is the same
    /// scheme and host with any port (or none).
    static func matches(pattern: String, origin: String) -> Bool {
        if pattern == origin { return true }
        guard pattern.hasSuffix(":*") else { return false }
        let base = String(pattern.dropLast(2))
        if origin == base { return true }
        guard origin.hasPrefix(base + ":") else { return false }
        let port = origin.dropFirst(base.count + 1)
        return !port.isEmpty && port.count <= 5 && port.allSatisfy(\.isASCIIDigit)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// One page's comment thread.
public struct CommentThread: Sendable, Equatable {
    public var id: Int64
    public var siteID: String
    public var uri: String
    public var title: String?
    public var locked: Bool
    public var createdAt: Int64
    /// Bumped by the database on every change to the thread's comments or votes.
    public var version: Int64

    public init(id: Int64, siteID: String, uri: String, title: String?, locked: Bool, createdAt: Int64, version: Int64) {
        self.id = id
        self.siteID = siteID
        self.uri = uri
        self.title = title
        self.locked = locked
        self.createdAt = createdAt
        self.version = version
    }
}

/// A stored comment, every column.
public struct Comment: Sendable, Equatable {
    public var id: Int64
    public var threadID: Int64
    public var parentID: Int64?
    public var status: CommentStatus
    public var author: String?
    public var email: String?
    public var website: String?
    /// Markdown as the author wrote it.
    public var body: String
    /// `body` rendered once, at write time, into safe HTML.
    public var html: String
    public var createdAt: Int64
    public var editedAt: Int64?
    /// Anonymised (/24 or /48) client address.
    public var ip: String?
    public var userAgent: String?
    public var spamScore: Double
    public var spamReasons: [String]
    public var likes: Int
    public var dislikes: Int
    public var notify: Bool
    public var editKeyHash: String?
    /// Import provenance such as `disqus:123`; nil for comments posted here.
    public var origin: String?

    public init(
        id: Int64 = 0, threadID: Int64, parentID: Int64? = nil, status: CommentStatus,
        author: String? = nil, email: String? = nil, website: String? = nil,
        body: String, html: String, createdAt: Int64, editedAt: Int64? = nil,
        ip: String? = nil, userAgent: String? = nil, spamScore: Double = 0, spamReasons: [String] = [],
        likes: Int = 0, dislikes: Int = 0, notify: Bool = false, editKeyHash: String? = nil,
        origin: String? = nil
    ) {
        self.id = id
        self.threadID = threadID
        self.parentID = parentID
        self.status = status
        self.author = author
        self.email = email
        self.website = website
        self.body = body
        self.html = html
        self.createdAt = createdAt
        self.editedAt = editedAt
        self.ip = ip
        self.userAgent = userAgent
        self.spamScore = spamScore
        self.spamReasons = spamReasons
        self.likes = likes
        self.dislikes = dislikes
        self.notify = notify
        self.editKeyHash = editKeyHash
        self.origin = origin
    }
}

/// A comment ready to be inserted: the thread is found or created by its site and uri.
public struct NewComment: Sendable {
    public var siteID: String
    public var uri: String
    public var title: String?
    public var comment: Comment
    /// The SHA-256 hex of the author key the widget sent with the comment (see
    /// `CommentService.hash(authorKey:)`); the proof that earns trust. Never the key itself.
    public var authorKeyHash: String?

    public init(siteID: String, uri: String, title: String?, comment: Comment, authorKeyHash: String? = nil) {
        self.authorKeyHash = authorKeyHash
        self.siteID = siteID
        self.uri = uri
        self.title = title
        self.comment = comment
    }
}

/// The outcome of a vote: the comment's new totals.
public struct VoteTotals: Sendable, Equatable, Codable {
    public var likes: Int
    public var dislikes: Int

    public init(likes: Int, dislikes: Int) {
        self.likes = likes
        self.dislikes = dislikes
    }
}

/// What deleting a comment did.
public enum DeletionOutcome: Sendable, Equatable {
    /// The row is gone (it had no replies).
    case removed
    /// The row stays as a content-free tombstone so its replies keep their place.
    case tombstoned
}
