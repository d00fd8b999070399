/// What the moderation console and its API ask of a store: who may sign in, their sessions, and
/// the moderators' views of the comments (search, context, history, log, statistics).
/// Every `CommentStore` is one; the conformance suite runs these on every store.
public protocol ConsoleStore: Sendable {
    // MARK: Admin users

    /// Adds an admin (an address, stored lowercased); false when it was one already.
    func addAdminUser(email: String, at: Int64) async throws -> Bool
    /// Removes an admin and revokes their sessions; false when it was none.
    func removeAdminUser(email: String, at: Int64) async throws -> Bool
    /// Every admin, by address.
    func adminUsers() async throws -> [AdminUser]

    // MARK: Sessions

    /// Starts a session for `email` and returns it with its cookie value in full, once:
    /// `mgs_<id>_<secret>`. Only a hash of the secret is stored.
    func createConsoleSession(
        email: String, userAgent: String?, random: any RandomSource, at: Int64
    ) async throws -> (ConsoleSession, String)
    /// The live session a presented cookie value proves (compared in constant time): not
    /// revoked, not idle longer than `policy.idleMillis`, not older than `policy.absoluteMillis`.
    /// Marks it seen (written at most once a minute, so reads stay reads).
    func verifyConsoleSession(_ presented: String, at: Int64, policy: SessionPolicy) async throws -> ConsoleSession?
    /// Sessions not revoked and not expired under `policy` at `at`, of one address or of
    /// everyone, newest first.
    func consoleSessions(email: String?, at: Int64, policy: SessionPolicy) async throws -> [ConsoleSession]
    /// Revokes one session, expired or not; false when there is no unrevoked session with that id.
    func revokeConsoleSession(id: String, at: Int64) async throws -> Bool
    /// Revokes every session of `email` ("sign out everywhere"); returns how many were live under
    /// `policy` (expired ones are revoked too, uncounted).
    func revokeConsoleSessions(email: String, at: Int64, policy: SessionPolicy) async throws -> Int
    /// Spends a single-use sign-in link's nonce: true the first time, false ever after.
    func spendLinkNonce(_ nonce: String, expiresAt: Int64, at: Int64) async throws -> Bool

    // MARK: The moderators' views

    /// Comments matching `query`, in its order, at most `query.limit`, with their threads.
    func comments(matching query: CommentQuery) async throws -> [(CommentThread, Comment)]
    /// For each address (compared case-insensitively; keys lowercased), the ids of up to two of
    /// its approved comments on `siteID`: enough to tell whether it has an approved comment
    /// other than a given one. Addresses with none are absent.
    func approvedCommentIDs(siteID: String, emails: [String]) async throws -> [String: [Int64]]
    /// How many comments of the sites (nil: all) have each status.
    func statusCounts(siteIDs: [String]?) async throws -> [CommentStatus: Int]
    /// The direct replies to a comment, any status, oldest first.
    func replies(to commentID: Int64, limit: Int) async throws -> [Comment]
    /// Other comments (any status) by the same address (case-insensitive) or from the same
    /// stored network, of the sites (nil: all), newest first, without `excluding`.
    func authorHistory(
        email: String?, network: String?, siteIDs: [String]?, excluding: Int64, limit: Int
    ) async throws -> [(CommentThread, Comment)]
    /// The moderation log of the sites (nil: all), newest first; `beforeID` pages on (entries
    /// with a smaller id only).
    func moderationLog(siteIDs: [String]?, beforeID: Int64?, limit: Int) async throws -> [ModerationLogEntry]
    /// Comments created since `since` per UTC day and status, of the sites (nil: all).
    func dailyCounts(siteIDs: [String]?, since: Int64) async throws -> [DailyCount]
    /// The threads with the most comments (any status) created since `since`, most first.
    func busiestThreads(siteIDs: [String]?, since: Int64, limit: Int) async throws -> [(CommentThread, Int)]
    /// A moderator's edit of a comment's text: replaces `body` and `html`, stamps `edited_at`,
    /// and logs `edit` with `moderator` as the actor's address, in one transaction.
    func moderatorEdit(commentID: Int64, body: String, html: String, moderator: String, at: Int64) async throws -> Comment
}

extension ConsoleStore {
    /// `revokeConsoleSessions(email:at:policy:)` counting under the standard policy.
    public func revokeConsoleSessions(email: String, at: Int64) async throws -> Int {
        try await revokeConsoleSessions(email: email, at: at, policy: .standard)
    }
}
