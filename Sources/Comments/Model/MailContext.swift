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
    /// asked to be notified), keyed by `AddressKey.hash`; absent means `unasked`.
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
        consents[AddressKey.hash(email)] ?? .unasked
    }
}

/// Builds the mails a change causes, inside the transaction that makes the change, so a comment
/// and its notifications are stored together or not at all.
extension MailContext {
    /// The keys (`AddressKey`) of the addresses among `comment` and `parent` that asked to hear
    /// of replies, each once and sorted (the order PostgreSQL takes their locks in).
    static func askingKeys(comment: Comment, parent: Comment?) -> [String] {
        Set([comment, parent].compactMap { $0 }.filter(\.notify).compactMap { $0.email.map(AddressKey.hash) }).sorted()
    }
}

public typealias MailBuilder = @Sendable (MailContext) -> [OutgoingMail]
