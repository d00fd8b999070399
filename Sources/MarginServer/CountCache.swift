import Comments
import Synchronization

/// Approved-comment counts by site and normalised uri, valid while the store's change stamp
/// stays the same: list pages ask for the same counts on every view, and any write anywhere
/// starts the cache over.
final class CountCache: Sendable {
    private struct State {
        var stamp: Int64?
        var counts: [String: Int] = [:]
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int = 100_000) { self.capacity = capacity }

    private static func key(_ siteID: String, _ uri: String) -> String { siteID + "\u{0}" + uri }

    /// The counts of every uri in `uris` if all are known at `stamp`, else nil. Never for no uris:
    /// an answer from the cache is also what vouches that the site exists.
    func counts(siteID: String, uris: some Collection<String>, stamp: Int64?) -> [String: Int]? {
        guard let stamp, !uris.isEmpty else { return nil }
        return state.withLock { state in
            guard state.stamp == stamp else { return nil }
            var found: [String: Int] = [:]
            for uri in uris {
                guard let count = state.counts[Self.key(siteID, uri)] else { return nil }
                found[uri] = count
            }
            return found
        }
    }

    /// Remembers counts read from the store after `stamp` was taken.
    func remember(siteID: String, counts: [String: Int], stamp: Int64?) {
        guard let stamp else { return }
        state.withLock { state in
            if state.stamp != stamp || state.counts.count + counts.count > capacity {
                state = State(stamp: stamp)
            }
            for (uri, count) in counts { state.counts[Self.key(siteID, uri)] = count }
        }
    }
}
