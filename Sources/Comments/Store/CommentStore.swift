/// Everything Margin keeps, behind one protocol so SQLite (the embedded default) and a shared
/// database can serve the same API. Every implementation must pass `StoreConformance`.
public protocol CommentStore: Sendable {
    /// A number that changes whenever anything in the store may have changed, from this process
    /// or any other, and costs next to nothing to ask: read caches stay valid while it stays
    /// the same. Nil when the store cannot tell (then nothing may be served from a cache
    /// without asking the store).
    func changeStamp() -> Int64?
    /// Like `changeStamp`, but for sites and the blocklist only: it stays the same while this
    /// process writes nothing but comments (as a busy site does all day), and changes whenever
    /// sites or the blocklist may have changed, from this process or any other.
    func settingsStamp() -> Int64?
    /// Where the store's history of changes stands at change stamp `stamp`, for a cache that
    /// will later ask whether one thread changed since; nil when the store cannot tell.
    func changeMark(at stamp: Int64) -> ChangeMark?
    /// The mark at change stamp `stamp` if thread `threadID` (its comments, votes and the
    /// settings of its site) is certainly unchanged since `mark`; nil when it changed or the
    /// store is unsure.
    func markIfUnchanged(threadID: Int64, since mark: ChangeMark, at stamp: Int64) -> ChangeMark?

    // MARK: Sites

    /// Every site, ordered by id.
    func sites() async throws -> [Site]
    /// The site with this id, if any.
    func site(id: String) async throws -> Site?
    /// Adds a site; `CommentsError.siteExists` when the id is taken.
    func addSite(_ site: Site) async throws
    /// Replaces a site's settings; `CommentsError.siteNotFound` when absent.
    func updateSite(_ site: Site) async throws
    /// Removes a site; refuses with `siteHasComments` unless `force`, which drops its comments too.
    /// Returns how many comments went with it.
    @discardableResult
    func removeSite(id: String, force: Bool) async throws -> Int
    /// Creates `site` only when the database has no site at all (the embedded default).
    func addSiteIfNoneExist(_ site: Site) async throws -> Bool

    // MARK: Threads and comments

    /// The thread for a site's normalised uri, if any comment ever created it.
    func thread(siteID: String, uri: String) async throws -> CommentThread?
    /// A thread by id.
    func thread(id: Int64) async throws -> CommentThread?
    /// The thread and every comment a reader may see a trace of (approved ones, and others that
    /// still have approved descendants), oldest first. Nil when there is no such thread.
    func visibleComments(siteID: String, uri: String) async throws -> (CommentThread, [Comment])?
    /// Inserts a comment, creating its thread on first use. Checks in the same transaction that the
    /// parent exists in that thread and is approved, and that the thread is not locked. A held or
    /// spam comment is logged as the spam filter's decision; `mail` builds the notifications that
    /// are queued in the same transaction.
    func insert(_ new: NewComment, mail: MailBuilder?) async throws -> (CommentThread, Comment)
    /// Stores a new comment after screening it, all in one write transaction: finds its thread,
    /// makes `plan`'s lookups, sets the status, score and reasons `plan` decides, then inserts as
    /// `insert(_:mail:)` does. One transaction instead of three or four: each read transaction
    /// after a write starts from an emptied page cache.
    func insert(_ new: NewComment, screening plan: ScreeningPlan, mail: MailBuilder?) async throws -> (CommentThread, Comment)
    /// A comment by id, every column.
    func comment(id: Int64) async throws -> Comment?
    /// Replaces the author-editable fields of a comment (`body`, `html`, `author`, `website`,
    /// `editedAt`, and status/score when the edit was re-judged). Returns the stored row.
    func update(_ comment: Comment, mail: MailBuilder?) async throws -> Comment
    /// Deletes a comment: a tombstone when anything still replies to it, otherwise the row, and
    /// then any tombstone ancestors left with no replies.
    func delete(commentID: Int64) async throws -> DeletionOutcome
    /// Records `voter`'s vote (+1 or −1) on an approved comment, replacing an earlier vote of theirs.
    func vote(commentID: Int64, voter: String, value: Int, at: Int64) async throws -> VoteTotals
    /// Approved-comment counts for several normalised uris of one site (0 for unknown uris).
    func approvedCounts(siteID: String, uris: [String]) async throws -> [String: Int]
    /// The latest approved comments of a site (newest first), with their threads.
    func latestApproved(siteID: String, limit: Int) async throws -> [(CommentThread, Comment)]
    /// How many comments (any status) a site holds.
    func commentCount(siteID: String) async throws -> Int

    // MARK: Moderation

    /// Comments for moderators, newest first, optionally of one site and one status.
    func moderationQueue(siteID: String?, status: CommentStatus?, limit: Int) async throws -> [(CommentThread, Comment)]
    /// Applies a moderator's decision atomically: consumes the single-use link nonce (if given),
    /// changes the status (or deletes), writes `moderation_log`, moves the classifier's counts for
    /// `features` to the decision's side (approve = ham, spam = spam), and queues `mail`.
    func moderate(
        commentID: Int64, action: ModerationAction, actor: ModerationActor, reason: String?, at: Int64,
        linkNonce: (nonce: String, expiresAt: Int64)?, features: [String]?, mail: MailBuilder?
    ) async throws -> ModerationOutcome
    /// Whether a single-use link nonce has been spent.
    func isLinkUsed(nonce: String) async throws -> Bool
    /// The audit log, newest first, of one comment or of everything.
    func moderationLog(commentID: Int64?, limit: Int) async throws -> [ModerationLogEntry]
    /// Everything the spam rules ask the store about one comment of `siteID`, read at one
    /// moment: the author's approved history, duplicates of the text since `query.since`, the
    /// blocklist and the classifier's counts for `query.features`.
    func screeningFacts(siteID: String, query: ScreeningQuery) async throws -> ScreeningFacts

    // MARK: Blocklist

    /// Every blocklist entry, by kind and value.
    func blocklist() async throws -> [BlockEntry]
    /// Adds (or replaces) an entry.
    func addBlock(_ entry: BlockEntry) async throws
    /// Removes an entry; false when there was none.
    func removeBlock(kind: BlockKind, value: String) async throws -> Bool

    // MARK: Learned classifier

    /// Counts for `features` and the number of documents trained on each side.
    func classifierCounts(features: [String]) async throws -> ClassifierCounts
    /// Trains one document (a seed corpus row) on one side.
    func train(features: [String], asSpam: Bool) async throws

    // MARK: Signing keys

    /// Every moderation-link signing key, oldest first.
    func signingKeys() async throws -> [SigningKey]
    /// Adds a key and retires the keys that were current (they keep verifying until their links expire).
    func addSigningKey(_ key: SigningKey) async throws
    /// Adds `key` only when there is no key at all (a first start); false when there was one.
    /// Nodes starting together on one database add one key between them.
    func addSigningKeyIfNoneExist(_ key: SigningKey) async throws -> Bool
    /// Deletes the key `id` (`margin keys revoke`): the links it signed are refused at once as
    /// signed by an unknown key. False when there is no such key.
    func removeSigningKey(id: String) async throws -> Bool

    // MARK: Mail outbox

    /// Mail due for (another) delivery attempt at `now`, oldest first, claimed for the caller
    /// until `now + OutboxClaim.leaseMillis`: no other caller, on any node, is given it again
    /// until it is marked sent or failed, or the claim runs out (its sender died).
    func dueMail(now: Int64, limit: Int) async throws -> [OutgoingMail]
    /// Records a delivery.
    func markSent(mailID: Int64, at: Int64) async throws
    /// Records a failed attempt: retried at `retryAt`, or given up when nil.
    func markFailed(mailID: Int64, error: String, at: Int64, retryAt: Int64?) async throws
    /// The outbox, newest first (for operators and tests).
    func outbox(limit: Int) async throws -> [OutgoingMail]
    /// Turns off reply notifications for `email` in one thread; returns how many comments changed.
    func unsubscribe(email: String, threadID: Int64, at: Int64) async throws -> Int
    /// What `email` agreed to about reply mail on `siteID` (`unasked` when nothing is stored).
    /// Mail builders get the same answer in `MailContext.consents`, read in their transaction; the
    /// outbox queues a confirmation mail's `requested` itself, and drops reader mail (`dailyCap`)
    /// past its recipient's cap for the last 24 hours.
    func replyConsent(email: String, siteID: String) async throws -> ReplyConsent
    /// Records a reader's answer for `email` on `siteID` (`confirmed` from a confirmation link,
    /// `suppressed` from "nothing from this blog"; `unasked` forgets it). Returns the consent before.
    @discardableResult
    func setReplyConsent(_ consent: ReplyConsent, email: String, siteID: String, at: Int64) async throws -> ReplyConsent

    // MARK: Secrets

    /// The named server secret, generated with `make` and stored on first use.
    func secret(named name: String, make: @Sendable () -> [UInt8], at: Int64) async throws -> [UInt8]

    // MARK: Health

    /// Throws unless the database answers a query.
    func ping() async throws
}

extension CommentStore {
    /// Inserts a comment that causes no mail.
    public func insert(_ new: NewComment) async throws -> (CommentThread, Comment) {
        try await insert(new, mail: nil)
    }

    /// Updates a comment without causing mail.
    public func update(_ comment: Comment) async throws -> Comment {
        try await update(comment, mail: nil)
    }
}

/// A point in a store's history of changes (see `CommentStore.changeMark(at:)`).
public struct ChangeMark: Sendable, Equatable {
    /// Changes of unknown extent so far.
    public var epoch: Int64
    /// Changes of known threads so far, within the epoch.
    public var sequence: Int64

    public init(epoch: Int64, sequence: Int64) {
        self.epoch = epoch
        self.sequence = sequence
    }
}

/// How long a sender may hold mail it took from the outbox before another may take it.
public enum OutboxClaim {
    /// Five minutes: far longer than an SMTP exchange, short enough that a dead node's mail goes out soon.
    public static let leaseMillis: Int64 = 300_000
}
