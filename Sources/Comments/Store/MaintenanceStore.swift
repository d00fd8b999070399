/// Maintenance every store does: thread remaps, privacy requests and backups.
public protocol MaintenanceStore: Sendable {
    /// Applies remap rules to stored threads: a thread moves to its new path, or merges into the
    /// thread already there, whose exact duplicate comments (author, time, text) are then dropped.
    func remapThreads(rules: RemapRules, siteID: String?, dryRun: Bool) async throws -> RemapSummary
    /// Every comment stored with this email address (any site, any status, any letter case).
    func comments(byEmail email: String) async throws -> [(CommentThread, Comment)]
    /// Erases a person's comments: tombstones where replies exist, otherwise deletion; name,
    /// email, website and address cleared; each logged. Returns how many comments were affected.
    func forget(email: String, at time: Int64) async throws -> Int
    /// Logs that a person's data was exported.
    func logPrivacyExport(email: String, at time: Int64) async throws
    /// A consistent copy of everything stored, written to a new SQLite file at `path`, safe
    /// while servers run.
    func backup(to path: String) async throws
}

/// What `threads remap` did.
public struct RemapSummary: Sendable, Codable, Equatable {
    public var threadsMoved = 0
    public var threadsMerged = 0
    public var duplicatesDropped = 0
    public var dryRun = false

    enum CodingKeys: String, CodingKey {
        case threadsMoved = "threads_moved"
        case threadsMerged = "threads_merged"
        case duplicatesDropped = "duplicates_dropped"
        case dryRun = "dry_run"
    }
}
