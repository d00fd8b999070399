import Comments
import CoreMetrics
import HTTPTypes
import Prometheus
import Synchronization

/// The server's metrics, recorded through swift-metrics into a Prometheus registry that this
/// object owns, and served by `GET /metrics`.
///
/// Each application has its own registry (passed to `buildApplication`, or a new one), so several
/// servers in one process — the tests run many — never mix their numbers, and nothing here needs
/// the process-wide `MetricsSystem`. `margin serve` bootstraps `MetricsSystem` with this same
/// registry, so metrics that libraries record land in the same output.
public final class ServerMetrics: Sendable {
    /// What `/metrics` serves.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory writing into `registry`.
    public let factory: PrometheusMetricsFactory

    /// One route's counter and latency histogram for a status, made once and reused.
    private struct Series: Sendable {
        let requests: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    /// What a request is counted under: the route template, never the raw path.
    private struct SeriesKey: Hashable, Sendable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    private let series = Mutex<[SeriesKey: Series]>([:])
    /// Posted comments by the status screening gave them.
    private let posted: [CommentStatus: CoreMetrics.Counter]
    /// Thread reads by how the cache answered them.
    let threadCache: ThreadCacheCounters

    /// Thread reads by how `ThreadCache` answered them.
    struct ThreadCacheCounters: Sendable {
        /// Served without asking the database (nothing changed anywhere).
        let hit: CoreMetrics.Counter
        /// Served from the cache after the store said the thread is unchanged.
        let revalidated: CoreMetrics.Counter
        /// Read from the database and encoded again.
        let miss: CoreMetrics.Counter
        /// Answered before the router, as recorded from an earlier answer (`AnswerReplayHandler`).
        let replayed: CoreMetrics.Counter
    }

    /// Latency buckets from 100 µs (a cached thread) to 10 s.
    static let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// Metrics recorded into `registry`.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[Names.requestDuration] = Self.durationBuckets
        self.factory = factory
        var posted: [CommentStatus: CoreMetrics.Counter] = [:]
        for status in CommentStatus.allCases where status != .deleted {
            posted[status] = CoreMetrics.Counter(label: Names.commentsPosted, dimensions: [("status", status.rawValue)], factory: factory)
        }
        self.posted = posted
        threadCache = ThreadCacheCounters(
            hit: CoreMetrics.Counter(label: Names.threadCache, dimensions: [("result", "hit")], factory: factory),
            revalidated: CoreMetrics.Counter(label: Names.threadCache, dimensions: [("result", "revalidated")], factory: factory),
            miss: CoreMetrics.Counter(label: Names.threadCache, dimensions: [("result", "miss")], factory: factory),
            replayed: CoreMetrics.Counter(label: Names.threadCache, dimensions: [("result", "replayed")], factory: factory))
        CoreMetrics.Gauge(label: Names.startTime, factory: factory).record(Double(LineLogHandler.now()) / 1000)
    }

    /// The metric names, as documented in the README.
    enum Names {
        static let requests = "margin_http_requests_total"
        static let requestDuration = "margin_http_request_duration_seconds"
        static let commentsPosted = "margin_comments_posted_total"
        static let comments = "margin_comments"
        static let outboxPending = "margin_mail_outbox_pending"
        static let outboxFailed = "margin_mail_outbox_failed"
        static let hooksPending = "margin_hook_deliveries_pending"
        static let hooksFailed = "margin_hook_deliveries_failed"
        static let databaseSize = "margin_database_size_bytes"
        static let threadCache = "margin_thread_cache_requests_total"
        static let startTime = "process_start_time_seconds"
    }

    /// Counts one answered request under its route template and records how long it took.
    func recordRequest(route: String, method: HTTPRequest.Method, status: Int, nanoseconds: UInt64) {
        let key = SeriesKey(route: route, method: method, status: status)
        let found = series.withLock { $0[key] }
        let entry = found ?? series.withLock { series in
            if let made = series[key] { return made }
            let made = Series(
                requests: CoreMetrics.Counter(
                    label: Names.requests, dimensions: [("method", method.rawValue), ("route", route), ("status", String(status))],
                    factory: factory),
                duration: CoreMetrics.Timer(
                    label: Names.requestDuration, dimensions: [("method", method.rawValue), ("route", route)], factory: factory))
            series[key] = made
            return made
        }
        entry.requests.increment()
        entry.duration.recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// Counts a posted comment under the status screening gave it.
    func recordPosted(_ status: CommentStatus) {
        posted[status]?.increment()
    }

    /// Sets the gauges that describe the database now; called when `/metrics` is asked for, so
    /// requests never pay for them.
    func recordStore(_ statistics: StoreStatistics) {
        for status in CommentStatus.allCases {
            CoreMetrics.Gauge(label: Names.comments, dimensions: [("status", status.rawValue)], factory: factory)
                .record(statistics.comments[status] ?? 0)
        }
        CoreMetrics.Gauge(label: Names.outboxPending, factory: factory).record(statistics.outboxPending)
        CoreMetrics.Gauge(label: Names.outboxFailed, factory: factory).record(statistics.outboxFailed)
        CoreMetrics.Gauge(label: Names.hooksPending, factory: factory).record(statistics.hooksPending)
        CoreMetrics.Gauge(label: Names.hooksFailed, factory: factory).record(statistics.hooksFailed)
        CoreMetrics.Gauge(label: Names.databaseSize, factory: factory).record(statistics.databaseBytes)
    }
}
