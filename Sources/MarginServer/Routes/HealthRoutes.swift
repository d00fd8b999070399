import Comments
import Hummingbird

/// Liveness for load balancers and systemd: 200 when the database answers, 503 when not.
struct HealthRoutes: Sendable {
    let store: any CommentStore

    func register(on router: Router<MarginRequestContext>) {
        router.get("healthz", use: health)
    }

    @Sendable func health(_ request: Request, context: MarginRequestContext) async throws -> Response {
        do {
            try await store.ping()
            return JSONBody.response(Array(#"{"status":"ok"}"#.utf8), headers: [.cacheControl: "no-store"])
        } catch {
            throw APIError(.serviceUnavailable, code: "storage_unavailable", message: "The database does not answer: \(error)")
        }
    }
}
