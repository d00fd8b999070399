import Comments
import Synchronization

/// Per-client token buckets (one per window of the site's `RateLimit`): in the store when it
/// shares them between nodes (`SharedRateLimits`), else in memory. Refills continuously;
/// answers how long to wait when empty.
final class RateLimiter: Sendable {
    private let buckets = Mutex<[String: [TokenBucket.State]]>([:])
    private let clock: any MarginClock
    private let maximumClients: Int
    private let shared: (any SharedRateLimits)?

    init(clock: any MarginClock, maximumClients: Int = 100_000, shared: (any SharedRateLimits)? = nil) {
        self.clock = clock
        self.maximumClients = maximumClients
        self.shared = shared
    }

    /// Takes one token from each of the client's buckets, or returns the seconds until it could.
    /// A shared store that cannot answer lets the request through: the write it guards fails
    /// on its own with 503.
    func take(site: String, client: String, limit: RateLimit) async -> Int? {
        guard !limit.windows.isEmpty else { return nil }
        let now = clock.nowMillis()
        let key = Self.key(site: site, client: client, limit: limit)
        if let shared { return (try? await shared.take(key: key, limit: limit, now: now)) ?? nil }
        return buckets.withLock { buckets in
            if buckets.count >= maximumClients { Self.prune(&buckets, limit: limit, now: now) }
            let known: [TokenBucket.State?] = buckets[key] ?? Array(repeating: nil, count: limit.windows.count)
            let (states, wait) = TokenBucket.take(known, limit: limit, now: now)
            buckets[key] = states
            return wait
        }
    }

    /// The seconds until the client could take a token, or nil when it could now; takes nothing.
    /// Counted in memory only, even beside a shared store: asking writes nothing anywhere.
    func wait(site: String, client: String, limit: RateLimit) -> Int? {
        guard !limit.windows.isEmpty else { return nil }
        let now = clock.nowMillis()
        let key = Self.key(site: site, client: client, limit: limit)
        return buckets.withLock { buckets in
            guard let known = buckets[key] else { return nil }
            return TokenBucket.take(known, limit: limit, now: now).wait
        }
    }

    /// The buckets' key: one set of buckets per site, limit and client.
    private static func key(site: String, client: String, limit: RateLimit) -> String {
        "\(site)|\(limit)|\(client)"
    }

    /// Forgets clients whose buckets have refilled; they are indistinguishable from new ones.
    private static func prune(_ buckets: inout [String: [TokenBucket.State]], limit: RateLimit, now: Int64) {
        let longest = Int64(limit.windows.map(\.seconds).max() ?? 0) * 1000
        buckets = buckets.filter { now - ($0.value.first?.updatedAt ?? 0) < longest }
    }
}
