import Comments
import Foundation
import Synchronization
import Testing
@testable import MarginServer

/// `/metrics`, `/healthz` and the thread cache cannot be turned against the database: the
/// monitoring figures are read at most once per two seconds, and no flood of `limit`/`after`
/// values pushes a thread others read out of the cache. Against the real server on a real file.
@Suite struct MonitoringCacheTests {
    /// Runs `body` with a server and the readings its health and metrics routes made.
    static func withReadings(
        _ body: (TestServer, RecentReading<DatabaseHealth?>, RecentReading<StoreStatistics>) async throws -> Void
    ) async throws {
        let health = Mutex<[RecentReading<DatabaseHealth?>]>([])
        let statistics = Mutex<[RecentReading<StoreStatistics>]>([])
        try await HealthRoutes.$made.withValue({ made in health.withLock { $0.append(made) } }) {
            try await MetricsRoutes.$made.withValue({ made in statistics.withLock { $0.append(made) } }) {
                try await TestServer.with { server in
                    let check = try #require(health.withLock { $0 }.first)
                    let gauges = try #require(statistics.withLock { $0 }.first)
                    try await body(server, check, gauges)
                }
            }
        }
    }

    /// Given a slow reading, when 20 callers ask at once, then the database is read once and all
    /// get that reading; a failure is shared the same way, and the next period reads again.
    @Test func callersAtOnceShareOneReading() async throws {
        let clock = TestClock()
        let reads = Mutex(0)
        let failing = Mutex(false)
        let reading = RecentReading<Int>(clock: clock) {
            try await Task.sleep(for: .milliseconds(100))
            if failing.withLock({ $0 }) { throw CommentsError.storageUnavailable("down") }
            return reads.withLock { $0 += 1; return $0 }
        }
        func askAtOnce() async -> [Int?] {
            await withTaskGroup(of: Int?.self) { group in
                for _ in 0..<20 { group.addTask { try? await reading.value() } }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(await askAtOnce() == Array(repeating: 1, count: 20))
        #expect(reading.count == 1)
        clock.advance(seconds: 2)
        failing.withLock { $0 = true }
        #expect(await askAtOnce() == Array(repeating: nil, count: 20))
        #expect(reading.count == 2)
        clock.advance(seconds: 2)
        failing.withLock { $0 = false }
        #expect(try await reading.value() == 2)
        #expect(reading.count == 3)
    }

    /// Given a healthy server, when `/healthz` is asked 50 times within two seconds, then the
    /// database is checked once: even with its file moved away (a fresh connection would fail)
    /// every answer is 200. Two seconds later the next request checks again and answers 503.
    @Test func healthzChecksTheDatabaseOncePerTwoSeconds() async throws {
        try await Self.withReadings { server, check, _ in
            #expect(try await server.client.get("/healthz").status == 200)
            let aside = server.databasePath + ".aside"
            try FileManager.default.moveItem(atPath: server.databasePath, toPath: aside)
            defer { try? FileManager.default.moveItem(atPath: aside, toPath: server.databasePath) }
            for _ in 0..<50 {
                #expect(try await server.client.get("/healthz").status == 200)
            }
            #expect(check.count == 1, "\(check.count) checks for 51 requests")
            server.clock.advance(seconds: 2)
            let gone = try await server.client.get("/healthz")
            #expect(gone.status == 503)
            #expect(check.count == 2)
            // The failure is remembered for as long: a flood while the database is down costs one check.
            for _ in 0..<20 { #expect(try await server.client.get("/healthz").status == 503) }
            #expect(check.count == 2)
        }
    }

    /// Given a server, when `/metrics` is scraped 50 times within two seconds (comments posted
    /// meanwhile), then the database is read once and the gauges stay as read; two seconds later
    /// the next scrape reads again and shows the new comments.
    @Test func metricsReadTheDatabaseOncePerTwoSeconds() async throws {
        try await Self.withReadings { server, _, gauges in
            _ = try await server.publish("one", uri: "/m/")
            func approved() async throws -> Double {
                ObservabilityTests.value(try ObservabilityTests.parse(try await server.client.get("/metrics").text), "margin_comments", ["status": "approved"])
            }
            #expect(try await approved() == 1)
            _ = try await server.publish("two", uri: "/m/")
            for _ in 0..<50 { #expect(try await approved() == 1) }
            #expect(gauges.count == 1, "\(gauges.count) readings for 51 scrapes")
            server.clock.advance(seconds: 2)
            #expect(try await approved() == 2)
            #expect(gauges.count == 2)
        }
    }

    /// Given a hot thread in the cache, when a client floods another thread with distinct
    /// `limit` and `after` values, more pages than the cache holds, then the hot thread's
    /// whole answer is still cached: reading it again loads nothing. A limit at or above the
    /// thread's size shares that answer, and an unknown `after` stores nothing.
    @Test func aFloodOfPagesLeavesTheHotThreadCached() async throws {
        let caches = Mutex<[ThreadCache]>([])
        try await ThreadCache.$made.withValue({ cache in caches.withLock { $0.append(cache) } }) {
            try await TestServer.with { server in
                let cache = try #require(caches.withLock { $0 }.first)
                // The hot thread read whole, each time with a new cache-busting parameter the route
                // ignores: an identical request would be replayed before the router, never
                // reaching the thread cache.
                let reads = Mutex(0)
                @Sendable func readHot() async throws -> Int {
                    let id = reads.withLock { $0 += 1; return $0 }
                    let answer = try await server.client.get("/api/v1/comments?site=default&uri=%2Fhot%2F&_=\(id)")
                    #expect(answer.status == 200)
                    return answer.json.comments.count
                }
                var roots: [Int64] = []
                for index in 0..<6 { roots.append(try await server.publish("hot \(index)", uri: "/hot/").id) }
                // A big thread to flood: 100 top-level comments, so thousands of distinct real pages.
                var big: [Int64] = []
                for index in 0..<100 { big.append(try await server.publish("big \(index)", uri: "/big/").id) }
                _ = try await readHot()
                let loaded = cache.misses
                // A limit the thread cannot reach answers what no limit answers, from the same entry.
                for limit in [6, 7, 50, 1000] {
                    #expect(try await server.thread("/hot/", query: "&limit=\(limit)").comments.count == 6)
                }
                #expect(cache.misses == loaded, "limits at or above the thread's size loaded \(cache.misses - loaded) times")
                // An `after` that is no top-level comment of the thread is refused and kept nowhere.
                for after in 100_000..<100_050 {
                    #expect(try await server.client.get("/api/v1/comments?site=default&uri=%2Fhot%2F&after=\(after)").status == 422)
                }
                // The flood: 4,500 distinct pages of the big thread (more than the 4,096 answers the
                // cache holds), the hot thread read whole meanwhile.
                for (index, after) in big.prefix(100).enumerated() {
                    for limit in 1...45 {
                        _ = try await server.thread("/big/", query: "&limit=\(limit)&after=\(after)")
                    }
                    if index % 5 == 4 {
                        // The hot thread, read meanwhile, stays cached.
                        let before = cache.misses
                        _ = try await readHot()
                        #expect(cache.misses == before, "the hot thread was pushed out after \((index + 1) * 45) pages")
                    }
                }
                let before = cache.misses
                #expect(try await readHot() == 6)
                #expect(cache.misses == before, "the hot thread was pushed out")
            }
        }
    }
}
