import Comments
import Hummingbird

/// Liveness for load balancers and systemd: 200 when the database answers, 503 when not. The
/// database is checked at most once every two seconds however many ask (`RecentReading`).
struct HealthRoutes: Sendable {
    let clock: any MarginClock
    /// When the server started, in the clock's milliseconds (for `uptime_seconds`).
    let startedAt: Int64
    /// The last check of the database (`CommentStore.health()`): its file's figures on SQLite,
    /// nil on PostgreSQL.
    let check: RecentReading<DatabaseHealth?>
    /// The last count of hook deliveries waiting and given up on: failing hooks show here
    /// without making the server unhealthy.
    let hooks: RecentReading<(pending: Int, failed: Int)>

    /// Checks `store`.
    init(store: any CommentStore, clock: any MarginClock, startedAt: Int64) {
        self.clock = clock
        self.startedAt = startedAt
        check = RecentReading(clock: clock) { try await store.health() }
        hooks = RecentReading(clock: clock) { try await store.hookBacklog() }
        Self.made?(check)
    }

    /// Tests only: told of the check of every `HealthRoutes` made while bound.
    @TaskLocal static var made: (@Sendable (RecentReading<DatabaseHealth?>) -> Void)?

    func register(on router: Router<MarginRequestContext>) {
        router.get("healthz", use: health)
    }

    /// `{"status":"ok","database":"ok","database_bytes":…,"migrations":…,"hooks_pending":…,
    /// "hooks_failed":…,"uptime_seconds":…}`, or 503 `storage_unavailable` when the database does
    /// not answer or its file no longer opens.
    @Sendable func health(_ request: Request, context: MarginRequestContext) async throws -> Response {
        var json = JSONWriter(capacity: 128)
        json.raw("{\"status\":\"ok\",\"database\":\"ok\"")
        do {
            if let health = try await check.value() {
                json.raw(",\"database_bytes\":"); json.number(health.databaseBytes)
                json.raw(",\"migrations\":"); json.number(health.migrations)
            }
        } catch {
            // Why goes to the log only: it may name the database host or quote its server.
            let why = (error as? CommentsError).map { "\($0)" } ?? "\(type(of: error))"
            context.logger.error("health check failed", metadata: ["error": "\(why)"])
            let message = (error as? CommentsError).map { "The database does not answer: \($0.publicDescription)" }
                ?? "The database does not answer."
            throw APIError(.serviceUnavailable, code: "storage_unavailable", message: message, headers: [.retryAfter: "5"])
        }
        // A count that fails after the check passed leaves the figures out, not the server down.
        if let hooks = try? await hooks.value() {
            json.raw(",\"hooks_pending\":"); json.number(hooks.pending)
            json.raw(",\"hooks_failed\":"); json.number(hooks.failed)
        }
        json.raw(",\"uptime_seconds\":"); json.number(max(0, clock.nowMillis() - startedAt) / 1000)
        json.raw("}")
        return JSONBody.response(json.bytes, headers: [.cacheControl: "no-store"])
    }
}
