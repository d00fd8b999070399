import Comments
import Testing
@testable import MarginServer

/// The encoded-thread cache stays within its count and byte budget however many threads are
/// read, by dropping the least recently used answers, one at a time.
@Suite struct ThreadCacheTests {
    func keep(_ cache: ThreadCache, _ uri: String, bytes: Int) {
        _ = cache.store(ThreadQuery(siteID: nil, uri: uri), version: 1, threadID: 1, avatars: .identicon, bytes: Array(repeating: 0x20, count: bytes), stamp: 1, mark: nil)
    }

    /// The cache key of the thread `keep` stored under `uri`.
    func key(_ uri: String) -> String { ThreadQuery(siteID: nil, uri: uri).key }

    /// Given answers over the byte budget, then the least recent ones go, and an answer larger
    /// than the whole budget is served but never kept.
    @Test func dropsTheLeastRecentPastItsByteBudgetAndNeverKeepsAnAnswerLargerThanIt() {
        let cache = ThreadCache(capacity: 100, byteBudget: 10_000)
        for index in 0..<4 { keep(cache, "t\(index)", bytes: 3_000) }
        // 12,000 bytes do not fit: the fourth pushed out the first, and only it.
        #expect(cache.fresh(key("t0"), stamp: 1) == nil)
        #expect(cache.fresh(key("t1"), stamp: 1) != nil && cache.fresh(key("t2"), stamp: 1) != nil)
        #expect(cache.fresh(key("t3"), stamp: 1) != nil)
        keep(cache, "t3", bytes: 9_000)
        #expect(cache.fresh(key("t3"), stamp: 1)?.body.readableBytes == 9_000, "a replaced answer frees its own bytes first")
        keep(cache, "huge", bytes: 10_001)
        #expect(cache.fresh(key("huge"), stamp: 1) == nil)
        #expect(cache.fresh(key("t3"), stamp: 1) != nil, "an answer over budget does not empty the cache")
    }

    /// Given a full cache whose oldest answer was just read, when another is kept, then the
    /// least recently used one goes, not the one just read, and not everything.
    @Test func dropsTheLeastRecentlyUsedPastItsCount() {
        let cache = ThreadCache(capacity: 3, byteBudget: 1 << 20)
        for index in 0..<3 { keep(cache, "t\(index)", bytes: 10) }
        #expect(cache.fresh(key("t0"), stamp: 1) != nil)
        keep(cache, "t3", bytes: 10)
        #expect(cache.fresh(key("t1"), stamp: 1) == nil)
        for kept in ["t0", "t2", "t3"] { #expect(cache.fresh(key(kept), stamp: 1) != nil, "\(kept)") }
    }

    /// Given a thread's whole answer, when a client asks for more distinct pages of it than a
    /// thread may keep, then only its oldest pages go: the whole answer and other threads stay.
    @Test func aThreadKeepsAFewPagesBesideItsWholeAnswer() {
        let cache = ThreadCache(capacity: 100, byteBudget: 1 << 20)
        keep(cache, "hot", bytes: 10)
        keep(cache, "big", bytes: 10)
        for limit in 1...50 {
            _ = cache.store(ThreadQuery(siteID: nil, uri: "big", limit: limit, after: 7), version: 1, threadID: 2, avatars: .identicon,
                            bytes: [0x20], stamp: 1, mark: nil)
        }
        #expect(cache.fresh(key("hot"), stamp: 1) != nil)
        #expect(cache.fresh(key("big"), stamp: 1) != nil)
        let pages = (1...50).filter { cache.fresh(ThreadQuery(siteID: nil, uri: "big", limit: $0, after: 7).key, stamp: 1) != nil }
        #expect(pages == Array(43...50), "the newest \(ThreadCache.pagesPerThread) pages: \(pages)")
    }

    /// A limit at or above the thread's top-level count is no limit; below it, or unknown, it stays.
    @Test func aLimitTheThreadCannotReachIsNoLimit() {
        let page = ThreadQuery(siteID: "s", uri: "/t/", limit: 20, after: 5)
        #expect(page.normalized(topLevel: 20) == ThreadQuery(siteID: "s", uri: "/t/", limit: nil, after: 5))
        #expect(page.normalized(topLevel: 21) == page)
        #expect(page.normalized(topLevel: nil) == page)
    }
}
