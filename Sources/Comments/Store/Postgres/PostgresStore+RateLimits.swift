import PostgresNIO

// Rate limits every node shares: a row per (window, client), locked while it is read and written.
extension PostgresStore: SharedRateLimits {
    public func take(key: String, limit: RateLimit, now: Int64) async throws -> Int? {
        guard !limit.windows.isEmpty else { return nil }
        return try await transaction { connection, logger in
            let scopes = limit.windows.map { "\($0.count)/\($0.seconds)" }
            var states: [TokenBucket.State?] = []
            for (scope, window) in zip(scopes, limit.windows) {
                // A first request from two nodes at once: one inserts, both then lock the row.
                try await connection.query("""
                    INSERT INTO rate_buckets (scope, key, tokens, updated_at) VALUES (\(scope), \(key), \(Double(window.count)), \(now))
                    ON CONFLICT (scope, key) DO NOTHING
                    """, logger: logger)
                var state: TokenBucket.State?
                for try await (tokens, updatedAt) in try await connection.query(
                    "SELECT tokens, updated_at FROM rate_buckets WHERE scope = \(scope) AND key = \(key) FOR UPDATE", logger: logger
                ).decode((Double, Int64).self) {
                    state = TokenBucket.State(tokens: tokens, updatedAt: updatedAt)
                }
                states.append(state)
            }
            let (next, wait) = TokenBucket.take(states, limit: limit, now: now)
            for (scope, state) in zip(scopes, next) {
                try await connection.query(
                    "UPDATE rate_buckets SET tokens = \(state.tokens), updated_at = \(state.updatedAt) WHERE scope = \(scope) AND key = \(key)",
                    logger: logger)
            }
            // Now and then, forget clients whose longest window has refilled: they are like new ones.
            if Int.random(in: 0..<200) == 0 {
                let longest = Int64(limit.windows.map(\.seconds).max() ?? 0) * 1000
                try await connection.query("DELETE FROM rate_buckets WHERE updated_at < \(now - max(longest, 86_400_000))", logger: logger)
            }
            return wait
        }
    }
}
