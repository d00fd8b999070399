/// Everything Margin keeps, behind one protocol so SQLite (the embedded default) and a shared
/// database can serve the same API. Every implementation must pass `StoreConformance`.
///
/// What every store does is a requirement here or of the protocols it refines (admin tokens,
/// statistics, maintenance, transfer staging, the moderation console). What only some stores can do is a capability property that is nil
/// on the others (`changeTracking`, `sharedRateLimits`, `checkpointing`): callers ask the
/// store, never its concrete type.
public protocol CommentStore: AdminTokenStore, StatisticsStore, MaintenanceStore, TransferStaging, ConsoleStore, HookStore {
    // MARK: Capabilities

    /// Change stamps for read caches; nil when the store cannot tell what changed (then
    /// nothing may be served from a cache without asking the store).
    var changeTracking: (any ChangeTracking)? { get }
    /// Rate limits every node sharing the store draws from; nil when the server should count
    /// in memory (one node).
    var sharedRateLimits: (any SharedRateLimits)? { get }
    /// The periodic write-ahead-log checkpoint the server should run beside requests; nil when
    /// the store needs none.
    var checkpointing: (any Checkpointing)? { get }

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
    /// Applies a moderator's decision atomically: spends the single-use link nonce (if any),
    /// answers `alreadyDecided` for a link when a person (CLI, link or admin API) decided about
    /// the comment at or after the link's `issuedAt`, changes the status (or deletes; `restore`
    /// goes back to the status before the latest decision a person made that was not a restore,
    /// and throws `CommentsError.nothingToRestore` when there is none), writes
    /// `moderation_log` with the moderator and the status before, moves the classifier's counts
    /// for `features` to the decision's side (approved = ham, spam = spam, anything else
    /// restored = untrained), and queues `mail`.
    func moderate(_ decision: ModerationDecision, features: [String]?, mail: MailBuilder?) async throws -> ModerationOutcome
    /// Whether a single-use link nonce has been spent.
    func isLinkUsed(nonce: String) async throws -> Bool
    /// The audit log, newest first, of one comment or of everything.
    func moderationLog(commentID: Int64?, limit: Int) async throws -> [ModerationLogEntry]
    /// Everything the spam rules ask the store about one comment of `siteID`, read at one
    /// moment: the author's approved history, duplicates of the text since `query.since`, the
    /// blocklist entries of `siteID` and the global ones, and the classifier's counts for
    /// `query.features`.
    func screeningFacts(siteID: String, query: ScreeningQuery) async throws -> ScreeningFacts

    // MARK: Blocklist

    /// Every blocklist entry, of every site and global, by kind, value and site (global first).
    func blocklist() async throws -> [BlockEntry]
    /// Adds an entry, or replaces the reason of the one with its kind, value and site.
    func addBlock(_ entry: BlockEntry) async throws
    /// Removes the entry of `siteID` (nil: the global one); false when there was none.
    func removeBlock(kind: BlockKind, value: String, siteID: String?) async throws -> Bool

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
    /// Queues one mail that belongs to no comment (a console sign-in link).
    func queue(mail: OutgoingMail) async throws
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

    // MARK: Health and lifetime

    /// Throws unless the database answers a query.
    func ping() async throws
    /// A health check: throws `CommentsError.storageUnavailable` unless the database answers
    /// (and, for a file, still opens at its path); returns the database's figures where the
    /// store keeps them (SQLite: its file), nil where not (PostgreSQL).
    func health() async throws -> DatabaseHealth?
    /// Closes every connection once nothing uses the store any more (the server has stopped).
    func close() throws
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

/// How long a sender may hold mail it took from the outbox before another may take it.
public enum OutboxClaim {
    /// Five minutes: far longer than an SMTP exchange, short enough that a dead node's mail goes out soon.
    public static let leaseMillis: Int64 = 300_000
}
