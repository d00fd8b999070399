import Foundation

// When a console session is live, and how often its last use is written. (Its cookie value is a
// `PrefixedSecret`.)
extension ConsoleSession {
    /// Whether the session is live at `at` under `policy`: not revoked, not idle too long, not too old.
    func isLive(at: Int64, policy: SessionPolicy) -> Bool {
        revokedAt == nil && at - lastSeenAt <= policy.idleMillis && at - createdAt <= policy.absoluteMillis
    }

    /// How often a session's `last_seen_at` is written: reads stay reads in between.
    static let seenResolutionMillis: Int64 = 60_000
}
