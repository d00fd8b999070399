import Comments
import NIOCore
import Synchronization

/// Approved-comment counts by site and normalised uri, and whole answers by request, valid
/// while the store's change stamp stays the same: list pages ask for the same counts on every
/// view, and any write anywhere starts the cache over.
final class CountCache: Sendable {
    private struct State {
        var stamp: Int64?
        var counts: [String: Int] = [:]
        var answers: [RequestBytes: ByteBuffer] = [:]
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let answerCapacity: Int
    /// Requests longer than this are answered without being remembered.
    static let maximumRememberedRequest = 16 * 1024

    init(capacity: Int = 100_000, answerCapacity: Int = 1_000) {
        self.capacity = capacity
        self.answerCapacity = answerCapacity
    }

    /// The answer given to the same request (byte for byte) at `stamp`, if any.
    func answer(to request: [UInt8], stamp: Int64?) -> ByteBuffer? {
        guard let stamp else { return nil }
        return state.withLock { state in state.stamp == stamp ? state.answers[RequestBytes(bytes: request)] : nil }
    }

    /// Remembers the answer to `request`, computed from counts read after `stamp` was taken.
    func rememberAnswer(_ answer: ByteBuffer, to request: [UInt8], stamp: Int64?) {
        guard let stamp, request.count <= Self.maximumRememberedRequest else { return }
        state.withLock { state in
            if state.stamp != stamp { state = State(stamp: stamp) }
            // A whole page of distinct requests (a crawler walking every list page) starts over
            // rather than growing: the answers are cheap to make again from the counts.
            if state.answers.count >= answerCapacity { state.answers = [:] }
            state.answers[RequestBytes(bytes: request)] = answer
        }
    }

    /// A request body as a dictionary key, hashed as one block of bytes: `[UInt8]`'s own
    /// hashing feeds the hasher a byte at a time.
    private struct RequestBytes: Hashable {
        let bytes: [UInt8]

        func hash(into hasher: inout Hasher) {
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

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
