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

    /// Whether this is the default site as a new database gets it, changed in nothing but its
    /// creation time (an import's own `default` may replace it).
    public var isUntouchedDefault: Bool {
        var site = self
        site.createdAt = 0
        return site == Site.embeddedDefault(createdAt: 0)
    }

    /// Where the blog's pages are: its first origin without a wildcard port; nil when every
    /// origin has one (a page's address cannot then be told).
    public var pageOrigin: String? {
        origins.first { !$0.contains("*") }
    }

    /// Whether a browser `Origin` header value is one of this site's origins (`*` matches any port).
    public func allows(origin: String) -> Bool {
        let candidate = origin.lowercased()
        return origins.contains { OriginPattern.matches(pattern: $0.lowercased(), origin: candidate) }
    }
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
