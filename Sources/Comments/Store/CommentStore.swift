/// Everything Margin keeps, behind one protocol so SQLite (the embedded default) and a shared
/// database can serve the same API. Every implementation must pass `StoreConformance`.
public protocol CommentStore: Sendable {
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
    /// parent exists in that thread and is approved, and that the thread is not locked.
    func insert(_ new: NewComment) async throws -> (CommentThread, Comment)
    /// A comment by id, every column.
    func comment(id: Int64) async throws -> Comment?
    /// Replaces the author-editable fields of a comment (`body`, `html`, `author`, `website`,
    /// `editedAt`, and status/score when the edit was re-judged). Returns the stored row.
    func update(_ comment: Comment) async throws -> Comment
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

    // MARK: Secrets

    /// The named server secret, generated with `make` and stored on first use.
    func secret(named name: String, make: @Sendable () -> [UInt8], at: Int64) async throws -> [UInt8]

    // MARK: Health

    /// Throws unless the database answers a query.
    func ping() async throws
}
