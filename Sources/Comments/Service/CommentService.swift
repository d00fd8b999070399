import Crypto
import Foundation
import SafeHTML

/// Who sent a request, as far as the server can tell.
public struct ClientInfo: Sendable {
    /// The client's address as seen by the server (anonymised before storage).
    public var ip: String?
    public var userAgent: String?

    public init(ip: String?, userAgent: String?) {
        self.ip = ip
        self.userAgent = userAgent
    }
}

/// A reader's new comment, as submitted (unvalidated).
public struct PostInput: Sendable {
    public var site: String?
    public var uri: String?
    public var title: String?
    public var parent: Int64?
    public var author: String?
    public var email: String?
    public var website: String?
    public var text: String?
    public var notify: Bool?
    public var honeypot: String?
    public var formTimestamp: String?
    /// The random key the widget keeps for its reader and sends with each comment: the proof
    /// that earns the known-author trust (a typed email or name earns none). Stored only hashed.
    public var authorKey: String?

    public init(site: String? = nil, uri: String? = nil, title: String? = nil, parent: Int64? = nil,
                author: String? = nil, email: String? = nil, website: String? = nil, text: String? = nil,
                notify: Bool? = nil, honeypot: String? = nil, formTimestamp: String? = nil, authorKey: String? = nil) {
        self.authorKey = authorKey
        self.site = site
        self.uri = uri
        self.title = title
        self.parent = parent
        self.author = author
        self.email = email
        self.website = website
        self.text = text
        self.notify = notify
        self.honeypot = honeypot
        self.formTimestamp = formTimestamp
    }
}

/// An author's change to their own comment; nil fields stay as they are.
public struct EditInput: Sendable {
    public var text: String?
    public var author: String?
    public var website: String?

    public init(text: String? = nil, author: String? = nil, website: String? = nil) {
        self.text = text
        self.author = author
        self.website = website
    }
}

/// A stored comment as its author gets it back, with the secret that lets them change it.
public struct PostedComment: Sendable {
    public var thread: CommentThread
    public var comment: Comment
    /// Shown once; only its hash is stored.
    public var editToken: String?
    /// Until when (unix ms) the token works.
    public var editableUntil: Int64
}

/// The reader-facing use cases: post, edit, delete, vote, count. Validates input, renders
/// markdown once, and leaves publishing decisions to `Screening`.
public struct CommentService: Sendable {
    public let store: any CommentStore
    public let screening: any Screening
    public let clock: any MarginClock
    public let random: any RandomSource
    /// How long an author may edit or delete their comment, in milliseconds.
    public let editWindowMillis: Int64
    /// Makes the builder of the notification mails a stored comment causes (queued with it).
    public let mail: (@Sendable () async throws -> MailBuilder)?
    /// The sites, kept in memory until anything changes.
    public let sites: SiteCache

    public init(store: any CommentStore, screening: any Screening = ModeScreening(), clock: any MarginClock = SystemClock(),
                random: any RandomSource = SystemRandom(), editWindowMillis: Int64 = Limits.editWindowMillis,
                mail: (@Sendable () async throws -> MailBuilder)? = nil) {
        self.mail = mail
        self.store = store
        self.sites = SiteCache(store: store)
        self.screening = screening
        self.clock = clock
        self.random = random
        self.editWindowMillis = editWindowMillis
    }

    /// The site, or `siteNotFound`.
    public func requireSite(_ id: String?) async throws -> Site {
        guard let id, !id.isEmpty else { throw CommentsError.invalidField(field: "site", message: "is required") }
        guard let site = try await sites.site(id: id) else { throw CommentsError.siteNotFound(id) }
        return site
    }

    /// Validates, screens and stores a new comment.
    public func post(_ input: PostInput, site: Site, client: ClientInfo) async throws -> PostedComment {
        let uri = try FieldRules.uri(input.uri)
        let text = try FieldRules.text(input.text)
        let author = try FieldRules.author(input.author, required: site.requireAuthor)
        let email = try FieldRules.email(input.email, required: site.requireEmail)
        let website = try FieldRules.website(input.website)
        let title = try FieldRules.title(input.title)
        let authorKeyHash = try FieldRules.authorKey(input.authorKey).map(Self.hash(authorKey:))
        if let parent = input.parent, parent <= 0 {
            throw CommentsError.invalidField(field: "parent", message: "must be a comment id")
        }
        let now = clock.nowMillis()
        let token = Base64URL.encode(random.bytes(32))
        let comment = Comment(
            threadID: 0, parentID: input.parent, status: .pending, author: author, email: email,
            website: website, body: text, html: Markdown.render(text), createdAt: now,
            ip: client.ip.flatMap(IPAnonymizer.anonymize),
            userAgent: client.userAgent.map { String($0.prefix(Limits.userAgentMax)) },
            notify: (input.notify ?? false) && email != nil, editKeyHash: Self.hash(token: token))
        // The thread is looked up, the draft judged and stored in one transaction.
        let plan = screening.plan(for: Draft(
            site: site, thread: nil, comment: comment, honeypot: input.honeypot, formTimestamp: input.formTimestamp,
            authorKeyHash: authorKeyHash))
        let (storedThread, stored) = try await store.insert(
            NewComment(siteID: site.id, uri: uri, title: title, comment: comment, authorKeyHash: authorKeyHash), screening: plan, mail: try await mail?())
        return PostedComment(thread: storedThread, comment: stored, editToken: token, editableUntil: now + editWindowMillis)
    }

    /// The comment, once `token` proves authorship and the edit window is still open.
    public func authorize(commentID: Int64, token: String?) async throws -> Comment {
        guard let comment = try await store.comment(id: commentID), comment.status != .deleted else {
            throw CommentsError.commentNotFound(commentID)
        }
        guard let token, let stored = comment.editKeyHash,
              Self.constantTimeEquals(Array(Self.hash(token: token).utf8), Array(stored.utf8))
        else { throw CommentsError.invalidEditToken }
        if clock.nowMillis() > comment.createdAt + editWindowMillis { throw CommentsError.editWindowClosed }
        return comment
    }

    /// Applies an author's edit and screens the result again.
    public func edit(commentID: Int64, token: String?, input: EditInput) async throws -> PostedComment {
        var comment = try await authorize(commentID: commentID, token: token)
        guard let thread = try await store.thread(id: comment.threadID),
              let site = try await sites.site(id: thread.siteID)
        else { throw CommentsError.commentNotFound(commentID) }
        if let text = input.text {
            comment.body = try FieldRules.text(text)
            comment.html = Markdown.render(comment.body)
        }
        if input.author != nil { comment.author = try FieldRules.author(input.author, required: site.requireAuthor) }
        if input.website != nil { comment.website = try FieldRules.website(input.website) }
        comment.editedAt = clock.nowMillis()
        let judgement = try await screening.judge(Draft(site: site, thread: thread, comment: comment, isEdit: true))
        // An edit can make a comment doubtful, never more trusted than a moderator left it.
        if judgement.status != .approved || comment.status == .approved {
            comment.status = judgement.status
        }
        comment.spamScore = judgement.score
        comment.spamReasons = judgement.reasons
        let stored = try await store.update(comment, mail: try await mail?())
        return PostedComment(thread: thread, comment: stored, editToken: nil, editableUntil: stored.createdAt + editWindowMillis)
    }

    /// Deletes an author's own comment (a tombstone when it has replies).
    public func delete(commentID: Int64, token: String?) async throws -> DeletionOutcome {
        _ = try await authorize(commentID: commentID, token: token)
        return try await store.delete(commentID: commentID)
    }

    /// Records a reader's vote. The voter is the client's network (`IPAnonymizer.clientNetwork`:
    /// an IPv4 address, an IPv6 /64) keyed with the secret salt, never stored raw; nothing the
    /// client sends (its user agent, say) makes it another voter.
    public func vote(commentID: Int64, value: Int?, client: ClientInfo) async throws -> VoteTotals {
        guard let value, value == 1 || value == -1 else {
            throw CommentsError.invalidField(field: "value", message: "must be 1 or -1")
        }
        let salt = try await store.secret(named: "voter-salt", make: { [random] in random.bytes(32) }, at: clock.nowMillis())
        let identity = "network|" + (client.ip.map(IPAnonymizer.clientKey(of:)) ?? "")
        let mac = HMAC<SHA256>.authenticationCode(for: Array(identity.utf8), using: SymmetricKey(data: salt))
        return try await store.vote(commentID: commentID, voter: Base64URL.encode(mac), value: value, at: clock.nowMillis())
    }

    /// The uris of a counts request, as given → normalised; at most `Limits.countsMax`.
    public static func countedURIs(_ uris: [String]) throws -> [String: String] {
        if uris.count > Limits.countsMax {
            throw CommentsError.invalidField(field: "uri", message: "at most \(Limits.countsMax) uris per request")
        }
        var normalized: [String: String] = [:]
        for uri in uris { normalized[uri] = try FieldRules.uri(uri) }
        return normalized
    }

    /// The stored form of an author key: SHA-256 hex, under a prefix of its own so that it never
    /// equals the hash of the same text as an edit token.
    public static func hash(authorKey: String) -> String {
        Hex.encode(SHA256.hash(data: Array(("author-key|" + authorKey).utf8)))
    }

    /// The stored form of an edit token.
    public static func hash(token: String) -> String {
        Hex.encode(SHA256.hash(data: Array(token.utf8)))
    }

    /// Compares without an early exit, so timing does not reveal how much matched.
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
