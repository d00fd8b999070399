import Comments
import Hummingbird

/// Liveness for load balancers and systemd: 200 when the database answers, 503 when not.
struct HealthRoutes: Sendable {
    let store: any CommentStore
    let clock: any MarginClock
    /// When the server started, in the clock's milliseconds (for `uptime_seconds`).
    let startedAt: Int64

    func register(on router: Router<MarginRequestContext>) {
        router.get("healthz", use: health)
    }

    /// `{"status":"ok","database":"ok","database_bytes":…,"migrations":…,"uptime_seconds":…}`, or 503
    /// `storage_unavailable` when the database does not answer or its file no longer opens.
    @Sendable func health(_ request: Request, context: MarginRequestContext) async throws -> Response {
        var json = JSONWriter(capacity: 128)
        json.raw("{\"status\":\"ok\",\"database\":\"ok\"")
        do {
            if let sqlite = store as? SQLiteStore {
                let health = try await sqlite.health()
                json.raw(",\"database_bytes\":"); json.number(health.databaseBytes)
                json.raw(",\"migrations\":"); json.number(health.migrations)
            } else {
                try await store.ping()
            }
        } catch {
            let why = (error as? CommentsError).map { "\($0)" } ?? "\(type(of: error))"
            throw APIError(.serviceUnavailable, code: "storage_unavailable", message: "The database does not answer: \(why)",
                           headers: [.retryAfter: "5"])
        }
        json.raw(",\"uptime_seconds\":"); json.number(max(0, clock.nowMillis() - startedAt) / 1000)
        json.raw("}")
        return JSONBody.response(json.bytes, headers: [.cacheControl: "no-store"])
    }
}
