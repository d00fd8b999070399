import Foundation

// How a console session's cookie value is made, read and checked; only the hash is stored, as
// for admin tokens.
extension ConsoleSession {
    /// A new session's id, its cookie value in full (given once) and the hash that is stored.
    static func make(random: any RandomSource) -> (id: String, presented: String, hash: String) {
        let id = Base64URL.encode(random.bytes(9)).replacingOccurrences(of: "_", with: "x")
        let secret = Base64URL.encode(random.bytes(32))
        return (id, "mgs_\(id)_\(secret)", CommentService.hash(token: secret))
    }

    /// The id and secret of a presented `mgs_<id>_<secret>`; nil for anything else.
    static func parse(_ presented: String) -> (id: String, secret: String)? {
        let parts = presented.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "mgs", !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        return (String(parts[1]), String(parts[2]))
    }

    /// Whether `secret` hashes to `stored`, in constant time.
    static func matches(_ secret: String, hash stored: String) -> Bool {
        CommentService.constantTimeEquals(Array(CommentService.hash(token: secret).utf8), Array(stored.utf8))
    }

    /// Whether the session is live at `at` under `policy`: not revoked, not idle too long, not too old.
    func isLive(at: Int64, policy: SessionPolicy) -> Bool {
        revokedAt == nil && at - lastSeenAt <= policy.idleMillis && at - createdAt <= policy.absoluteMillis
    }

    /// How often a session's `last_seen_at` is written: reads stay reads in between.
    static let seenResolutionMillis: Int64 = 60_000
}

extension AdminUser {
    /// An address as admins, sessions and console roles compare it: trimmed and lowercased.
    public static func normalized(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}
