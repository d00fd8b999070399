import Foundation

/// What an import did, for people and (as JSON) for scripts.
public struct ImportSummary: Sendable, Codable, Equatable {
    public var threads = 0
    public var comments = 0
    public var replies = 0
    public var tombstones = 0
    public var spam = 0
    public var pending = 0
    public var duplicatesDropped = 0
    /// Records not imported, counted by reason.
    public var skipped: [String: Int] = [:]
    public var seconds = 0.0
    public var dryRun = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case threads, comments, replies, tombstones, spam, pending, skipped, seconds
        case duplicatesDropped = "duplicates_dropped"
        case dryRun = "dry_run"
    }

    mutating func skip(_ reason: String, _ count: Int = 1) {
        skipped[reason, default: 0] += count
    }
}
