/// Decides whether a draft is published, held or spam. The moderation module supplies the spam
/// filter; this is the seam it plugs into.
public protocol Screening: Sendable {
    /// The judgement for `draft`.
    func judge(_ draft: Draft) async throws -> Judgement
    /// The same judgement split around the store, so that a new comment is looked up, judged
    /// and stored in one write transaction: the work that needs nothing stored is done here,
    /// the rest by the plan's `decide` on what the store found.
    func plan(for draft: Draft) -> ScreeningPlan
}

/// A comment about to be stored or re-stored after an edit, with what is known of its sender.
public struct Draft: Sendable {
    public var site: Site
    public var thread: CommentThread?
    public var comment: Comment
    /// The widget's honeypot field, which people never fill.
    public var honeypot: String?
    /// The widget's signed form-render timestamp.
    public var formTimestamp: String?
    /// True when the draft is an edit of a stored comment.
    public var isEdit: Bool
    /// The hash of the author key sent with a new comment (nil without one, and for edits,
    /// whose stored comment carries it).
    public var authorKeyHash: String?

    public init(site: Site, thread: CommentThread?, comment: Comment, honeypot: String? = nil,
                formTimestamp: String? = nil, isEdit: Bool = false, authorKeyHash: String? = nil) {
        self.authorKeyHash = authorKeyHash
        self.site = site
        self.thread = thread
        self.comment = comment
        self.honeypot = honeypot
        self.formTimestamp = formTimestamp
        self.isEdit = isEdit
    }
}

/// What screening decided: the status to store and why.
public struct Judgement: Sendable, Equatable {
    public var status: CommentStatus
    public var score: Double
    public var reasons: [String]

    public init(status: CommentStatus, score: Double = 0, reasons: [String] = []) {
        self.status = status
        self.score = score
        self.reasons = reasons
    }
}

/// What a screening asks the store about a new comment (see `CommentStore.screeningFacts`).
public struct ScreeningQuery: Sendable {
    /// The author key's hash: the author's approved history is counted by it alone (a typed
    /// email or name proves nothing). Nil for an edit means the edited comment's own key.
    public var authorKeyHash: String?
    /// The text whose duplicates are counted.
    public let body: String
    /// `body`'s digest as `comments.body_digest` holds it, worked out here, before the store's
    /// transaction: folding a long text is the costliest part of the lookup.
    public let bodyDigest: Int64
    /// Duplicates count from this time on.
    public var since: Int64
    /// The comment being edited, not counted as its own duplicate.
    public var excluding: Int64?
    /// The learned classifier's features of the text.
    public var features: [String]

    public init(body: String, since: Int64, excluding: Int64?, features: [String], authorKeyHash: String? = nil) {
        self.authorKeyHash = authorKeyHash
        self.bodyDigest = SQLiteStore.digest(body)
        self.body = body
        self.since = since
        self.excluding = excluding
        self.features = features
    }
}

/// A screening ready to run inside the store's transaction: what to look up (nothing when
/// `query` is nil) and a pure verdict on the thread and the facts found.
public struct ScreeningPlan: Sendable {
    public var query: ScreeningQuery?
    public var decide: @Sendable (_ thread: CommentThread?, _ found: ScreeningFacts?) -> Judgement

    public init(query: ScreeningQuery?, decide: @escaping @Sendable (_ thread: CommentThread?, _ found: ScreeningFacts?) -> Judgement) {
        self.query = query
        self.decide = decide
    }
}
