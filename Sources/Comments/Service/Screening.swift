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

    public init(site: Site, thread: CommentThread?, comment: Comment, honeypot: String? = nil,
                formTimestamp: String? = nil, isEdit: Bool = false) {
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

/// Decides whether a draft is published, held or spam. The moderation module supplies the spam
/// filter; this is the seam it plugs into.
public protocol Screening: Sendable {
    /// The judgement for `draft`.
    func judge(_ draft: Draft) async throws -> Judgement
}

/// Screening by the site's moderation mode alone: `all` holds everything, anything else publishes.
public struct ModeScreening: Screening {
    public init() {}
    public func judge(_ draft: Draft) async throws -> Judgement {
        draft.site.moderation == .all
            ? Judgement(status: .pending, reasons: ["site holds every comment for review"])
            : Judgement(status: .approved)
    }
}
