/// Mail settings that are not SMTP: who writes, who moderates, where links point.
public struct MailSettings: Sendable, Equatable {
    /// The From address of every mail.
    public var from: String
    /// Moderators for sites that name none of their own.
    public var moderators: [String]
    /// Mail moderators about every new comment, not only held ones.
    public var notifyAll: Bool
    /// The public base URL of this server (links in mail), without a trailing slash.
    public var publicURL: String
    /// How long moderation links work, in seconds; also confirmation links, and how long a
    /// confirmation mail waits for an answer before another comment may send a new one.
    public var linkLifetimeSeconds: Int64
    /// Most reader mails (replies, confirmations) to one address in any 24 hours; more are dropped.
    public var maxPerRecipientPerDay: Int
    /// The default of `maxPerRecipientPerDay` (the `mail.max_per_recipient_per_day` setting).
    public static let defaultMaxPerRecipientPerDay = 10
    /// The default of `linkLifetimeSeconds`: seven days (the `mail.link_days` setting).
    public static let defaultLinkLifetimeSeconds: Int64 = 7 * 86_400

    /// `linkLifetimeSeconds` in milliseconds, as stored times are.
    public var linkLifetimeMillis: Int64 { linkLifetimeSeconds * 1000 }

    public init(from: String, moderators: [String] = [], notifyAll: Bool = false, publicURL: String,
                linkLifetimeSeconds: Int64 = defaultLinkLifetimeSeconds, maxPerRecipientPerDay: Int = defaultMaxPerRecipientPerDay) {
        self.maxPerRecipientPerDay = maxPerRecipientPerDay
        self.from = from
        self.moderators = moderators
        self.notifyAll = notifyAll
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.linkLifetimeSeconds = linkLifetimeSeconds
    }
}
