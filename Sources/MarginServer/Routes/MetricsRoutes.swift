import Comments
import Hummingbird
import NIOCore

/// `GET /metrics`: the server's metrics in the Prometheus text format (version 0.0.4).
struct MetricsRoutes: Sendable {
    let metrics: ServerMetrics
    /// The last reading of the gauges: the database is read at most once every two seconds
    /// however many scrape.
    let statistics: RecentReading<StoreStatistics>

    /// The gauges describe `store`.
    init(metrics: ServerMetrics, store: any StatisticsStore, clock: any MarginClock) {
        self.metrics = metrics
        statistics = RecentReading(clock: clock) { try await store.statistics() }
        Self.made?(statistics)
    }

    /// Tests only: told of the reading of every `MetricsRoutes` made while bound.
    @TaskLocal static var made: (@Sendable (RecentReading<StoreStatistics>) -> Void)?

    func register(on router: Router<MarginRequestContext>) {
        router.get("metrics", use: scrape)
    }

    /// The database gauges are read here, at most once per two seconds of scrapes, so requests
    /// never pay for them. When the
    /// database does not answer, the request counters are still served (a monitor that cannot
    /// scrape sees nothing at all), without the stale gauges being refreshed.
    @Sendable func scrape(_ request: Request, context: MarginRequestContext) async throws -> Response {
        do {
            metrics.recordStore(try await statistics.value())
        } catch {
            context.logger.warning("metrics could not read the database", metadata: ["error": "\((error as? CommentsError).map { "\($0)" } ?? "\(type(of: error))")"])
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
    }
}
