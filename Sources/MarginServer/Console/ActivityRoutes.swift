import Comments
import Foundation
import Hummingbird
import Moderation

/// What happened, for the console's Activity and Dashboard: the moderation log
/// (`/api/v1/admin/log`) and statistics (`/api/v1/admin/stats`).
struct ActivityRoutes: Sendable {
    let gate: ConsoleGate
    let store: any CommentStore
    let clock: any MarginClock

    func register(on router: Router<MarginRequestContext>) {
        router.get("api/v1/admin/log", use: log)
        router.get("api/v1/admin/stats", use: stats)
    }

    /// The sites a request's `site` names (404 for one the caller does not see), else all the caller's.
    func sites(_ request: Request, caller: ConsoleCaller) throws -> [String]? {
        guard let site = request.uri.queryParameters["site"].map(String.init), !site.isEmpty else { return caller.role.siteIDs }
        try caller.requireSite(site)
        return [site]
    }

    /// A positive integer query parameter within `range`, or `fallback` when absent.
    static func integer(_ request: Request, _ key: String, in range: ClosedRange<Int64>, fallback: Int64?) throws -> Int64? {
        guard let text = request.uri.queryParameters[Substring(key)].map(String.init) else { return fallback }
        guard let value = Int64(text), range.contains(value) else {
            throw CommentsError.invalidField(field: key, message: "must be \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A page of the log and where the next one starts.
    struct LogPage: Encodable {
        var entries: [ModerationLogEntry]
        var nextBefore: Int64?
        enum CodingKeys: String, CodingKey {
            case entries
            case nextBefore = "next_before"
        }

        /// Every key, `null` included: a client reads a missing key as a mistake, not as null.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(entries, forKey: .entries)
            try container.encode(nextBefore, forKey: .nextBefore)
        }
    }

    /// `GET /api/v1/admin/log?site=&before=&limit=`: newest first.
    @Sendable func log(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.caller(request, context: context)
        let sites = try sites(request, caller: caller)
        let limit = Int(try Self.integer(request, "limit", in: 1...200, fallback: 50) ?? 50)
        let before = try Self.integer(request, "before", in: 1...Int64.max, fallback: nil)
        let entries = try await store.moderationLog(siteIDs: sites, beforeID: before, limit: limit)
        let page = LogPage(entries: entries, nextBefore: entries.count == limit ? entries.last?.id : nil)
        return try JSONBody.response(encoding: page, headers: [.cacheControl: "no-store"])
    }

    /// One day of the chart: comments created that day by status.
    struct Day: Encodable {
        var day: String
        var approved = 0
        var pending = 0
        var rejected = 0
        var spam = 0
        var deleted = 0
    }

    /// A thread and how many comments it had in the period.
    struct BusyThread: Encodable {
        var thread: ModeratedComment.ThreadView
        var comments: Int
    }

    /// The answer of `GET /api/v1/admin/stats`.
    struct Stats: Encodable {
        var pending: Int
        var statuses: [String: Int]
        var daily: [Day]
        var spamCaught: Int
        var busiestThreads: [BusyThread]
        enum CodingKeys: String, CodingKey {
            case pending, statuses, daily
            case spamCaught = "spam_caught"
            case busiestThreads = "busiest_threads"
        }
    }

    /// `GET /api/v1/admin/stats?site=&days=30`: counts by status, comments per day (every day
    /// of the range, oldest first), spam caught and the busiest threads in the range.
    @Sendable func stats(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.caller(request, context: context)
        let sites = try sites(request, caller: caller)
        let days = try Self.integer(request, "days", in: 1...365, fallback: 30) ?? 30
        let today = clock.nowMillis() / 86_400_000
        let since = (today - days + 1) * 86_400_000
        var daily = (0..<days).map { Day(day: CivilTime(millis: (today - days + 1 + $0) * 86_400_000).isoDate) }
        for count in try await store.dailyCounts(siteIDs: sites, since: since) {
            guard let index = daily.firstIndex(where: { $0.day == count.day }) else { continue }
            switch count.status {
            case .approved: daily[index].approved += count.count
            case .pending: daily[index].pending += count.count
            case .rejected: daily[index].rejected += count.count
            case .spam: daily[index].spam += count.count
            case .deleted: daily[index].deleted += count.count
            }
        }
        let counts = try await store.statusCounts(siteIDs: sites)
        var siteByID: [String: Site] = [:]
        for site in try await store.sites() { siteByID[site.id] = site }
        let busiest = try await store.busiestThreads(siteIDs: sites, since: since, limit: 10).map { thread, count in
            BusyThread(thread: .init(thread, site: siteByID[thread.siteID]), comments: count)
        }
        let stats = Stats(
            pending: counts[.pending] ?? 0, statuses: Dictionary(uniqueKeysWithValues: CommentStatus.allCases.map { ($0.rawValue, counts[$0] ?? 0) }),
            daily: daily, spamCaught: daily.reduce(0) { $0 + $1.spam }, busiestThreads: busiest)
        return try JSONBody.response(encoding: stats, headers: [.cacheControl: "no-store"])
    }
}
