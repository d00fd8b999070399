/// Rate limits kept by the store, for servers that share it: token buckets that every node
/// draws from, so that spreading requests over nodes gains a client nothing. A store offers
/// them as `CommentStore.sharedRateLimits`; one without (SQLite, one node) leaves the server
/// to count in memory.
public protocol SharedRateLimits: Sendable {
    /// Takes one token from each of `key`'s buckets of `limit` at `now`, or returns the seconds
    /// until it could (and takes nothing).
    func take(key: String, limit: RateLimit, now: Int64) async throws -> Int?
}

/// The token-bucket arithmetic, the same in memory and in a database: refills continuously.
public enum TokenBucket {
    /// One bucket's state.
    public struct State: Sendable, Equatable {
        public var tokens: Double
        public var updatedAt: Int64

        public init(tokens: Double, updatedAt: Int64) {
            self.tokens = tokens
            self.updatedAt = updatedAt
        }
    }

    /// The buckets after asking for one token at `now` (nil for a bucket not seen before: full),
    /// and the seconds to wait when any is empty (then no token is taken).
    public static func take(_ states: [State?], limit: RateLimit, now: Int64) -> (states: [State], wait: Int?) {
        var current = zip(limit.windows, states).map { window, state in
            state ?? State(tokens: Double(window.count), updatedAt: now)
        }
        var wait = 0.0
        for (index, window) in limit.windows.enumerated() {
            let rate = Double(window.count) / (Double(window.seconds) * 1000)
            let elapsed = Double(max(0, now - current[index].updatedAt))
            current[index].tokens = min(Double(window.count), current[index].tokens + elapsed * rate)
            current[index].updatedAt = now
            if current[index].tokens < 1 { wait = max(wait, (1 - current[index].tokens) / rate / 1000) }
        }
        if wait > 0 { return (current, max(1, Int(wait.rounded(.up)))) }
        for index in current.indices { current[index].tokens -= 1 }
        return (current, nil)
    }
}
