import Comments
import Synchronization

/// Per-client token buckets (one per window of the site's `RateLimit`), in memory. Refills
/// continuously; answers how long to wait when empty.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedAt: Int64
    }

    private let buckets = Mutex<[String: [Bucket]]>([:])
    private let clock: any MarginClock
    private let maximumClients: Int

    init(clock: any MarginClock, maximumClients: Int = 100_000) {
        self.clock = clock
        self.maximumClients = maximumClients
    }

    /// Takes one token from each of the client's buckets, or returns the seconds until it could.
    func take(site: String, client: String, limit: RateLimit) -> Int? {
        guard !limit.windows.isEmpty else { return nil }
        let now = clock.nowMillis()
        let key = "\(site)|\(limit)|\(client)"
        return buckets.withLock { buckets in
            if buckets.count >= maximumClients { Self.prune(&buckets, limit: limit, now: now) }
            var current = buckets[key] ?? limit.windows.map { Bucket(tokens: Double($0.count), updatedAt: now) }
            var wait = 0.0
            for (index, window) in limit.windows.enumerated() {
                let rate = Double(window.count) / (Double(window.seconds) * 1000)
                let elapsed = Double(max(0, now - current[index].updatedAt))
                current[index].tokens = min(Double(window.count), current[index].tokens + elapsed * rate)
                current[index].updatedAt = now
                if current[index].tokens < 1 { wait = max(wait, (1 - current[index].tokens) / rate / 1000) }
            }
            if wait > 0 {
                buckets[key] = current
                return max(1, Int(wait.rounded(.up)))
            }
            for index in current.indices { current[index].tokens -= 1 }
            buckets[key] = current
            return nil
        }
    }

    /// Forgets clients whose buckets have refilled; they are indistinguishable from new ones.
    private static func prune(_ buckets: inout [String: [Bucket]], limit: RateLimit, now: Int64) {
        let longest = Int64(limit.windows.map(\.seconds).max() ?? 0) * 1000
        buckets = buckets.filter { now - ($0.value.first?.updatedAt ?? 0) < longest }
    }
}
