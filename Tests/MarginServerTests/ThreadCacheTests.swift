import Comments
import Testing
@testable import MarginServer

/// The encoded-thread cache stays within its byte budget however many threads are read.
@Suite struct ThreadCacheTests {
    func keep(_ cache: ThreadCache, _ uri: String, bytes: Int) {
        _ = cache.store(ThreadQuery(siteID: nil, uri: uri), version: 1, threadID: 1, avatars: .identicon, bytes: Array(repeating: 0x20, count: bytes), stamp: 1, mark: nil)
    }

    /// The cache key of the thread `keep` stored under `uri`.
    func key(_ uri: String) -> String { ThreadQuery(siteID: nil, uri: uri).key }

    @Test func startsOverPastItsByteBudgetAndNeverKeepsAnAnswerLargerThanIt() {
        let cache = ThreadCache(capacity: 100, byteBudget: 10_000)
        for index in 0..<4 { keep(cache, "t\(index)", bytes: 3_000) }
        // 12,000 bytes do not fit: the fourth started the cache over.
        #expect(cache.fresh(key("t0"), stamp: 1) == nil)
        #expect(cache.fresh(key("t3"), stamp: 1) != nil)
        keep(cache, "t3", bytes: 9_000)
        #expect(cache.fresh(key("t3"), stamp: 1)?.body.readableBytes == 9_000, "a replaced answer frees its own bytes first")
        keep(cache, "huge", bytes: 10_001)
        #expect(cache.fresh(key("huge"), stamp: 1) == nil)
        #expect(cache.fresh(key("t3"), stamp: 1) != nil, "an answer over budget does not empty the cache")
    }

    @Test func startsOverPastItsCount() {
        let cache = ThreadCache(capacity: 3, byteBudget: 1 << 20)
        for index in 0..<4 { keep(cache, "t\(index)", bytes: 10) }
        #expect(cache.fresh(key("t0"), stamp: 1) == nil)
        #expect(cache.fresh(key("t3"), stamp: 1) != nil)
    }
}
