import Comments
import Foundation
import Hummingbird
import Moderation

/// Hooks in the moderation API (`/api/v1/admin/hooks…`, `/api/v1/admin/hook-deliveries…`):
/// the webhooks and chat notifications, as `margin hooks` manages them. Admins only: a hook
/// sends comments (and, when trusted, commenters' addresses) to another server, so a moderator
/// gets 403 `admin_only` before anything is looked up.
struct HookRoutes: Sendable {
    let gate: ConsoleGate
    let registry: HookRegistry

    func register(on router: Router<MarginRequestContext>) {
        let group = router.group("api/v1/admin/hooks")
        group.get(use: list)
        group.post(use: add)
        group.get(":id", use: one)
        group.patch(":id", use: update)
        group.delete(":id", use: remove)
        group.post(":id/test", use: test)
        group.get(":id/deliveries", use: deliveries)
        router.group("api/v1/admin/hook-deliveries").post(":id/retry", use: retry)
    }

    /// The admin reading: 401 without credentials, 403 `admin_only` for a moderator.
    func admin(_ request: Request, context: MarginRequestContext) async throws {
        try await gate.caller(request, context: context).requireAdmin()
    }

    /// The admin changing something: as `admin`, and by cookie with the origin and CSRF token.
    func changingAdmin(_ request: Request, context: MarginRequestContext) async throws {
        try await gate.changingCaller(request, context: context).requireAdmin()
    }

    /// The path's `id`: 422 `invalid_id` unless a positive integer.
    static func id(_ context: MarginRequestContext, of what: String) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw CommentsError.invalidField(field: "id", message: "must be a \(what) id")
        }
        return id
    }

    static let noStore: HTTPFields = [.cacheControl: "no-store"]

    /// `GET /api/v1/admin/hooks[?site=]`: every hook, or those that hear one site (its own and
    /// those for every site).
    @Sendable func list(_ request: Request, context: MarginRequestContext) async throws -> Response {
        try await admin(request, context: context)
        let site = request.uri.queryParameters["site"].map(String.init)
        let hooks = try await registry.list(siteID: site?.isEmpty == false ? site : nil)
        return try JSONBody.response(encoding: ["hooks": hooks.map { HookView($0) }], headers: Self.noStore)
    }

    /// `POST /api/v1/admin/hooks`: 201 with the hook; a webhook's signing secret and the target
    /// are in it in clear, this once.
    @Sendable func add(_ request: Request, context: MarginRequestContext) async throws -> Response {
        try await changingAdmin(request, context: context)
        let body = try await JSONBody.decode(AddRequest.self, from: request, context: context)
        let hook = try await registry.add(body.input)
        // Only a secret Margin made is shown: a token the caller sent stays masked. The target
        // (an ntfy topic is a password) is shown this once, as sent.
        let view = HookView(hook, clearSecret: hook.preset == .webhook ? hook.secret : nil, clearTarget: true)
        return try JSONBody.response(encoding: ["hook": view], status: .created, headers: Self.noStore)
    }

    /// `GET /api/v1/admin/hooks/{id}`.
    @Sendable func one(_ request: Request, context: MarginRequestContext) async throws -> Response {
        try await admin(request, context: context)
        let hook = try await registry.hook(id: try Self.id(context, of: "hook"))
        return try JSONBody.response(encoding: ["hook": HookView(hook)], headers: Self.noStore)
    }

    /// `PATCH /api/v1/admin/hooks/{id}`: changes the fields sent; a rotated secret is in the
    /// answer in clear, this once.
    @Sendable func update(_ request: Request, context: MarginRequestContext) async throws -> Response {
        try await changingAdmin(request, context: context)
        let id = try Self.id(context, of: "hook")
        let body = try await JSONBody.decode(Changes.self, from: request, context: context)
        let (hook, newSecret) = try await registry.update(id: id, body.changes)
        return try JSONBody.response(encoding: ["hook": HookView(hook, clearSecret: newSecret)], headers: Self.noStore)
    }

    /// `DELETE /api/v1/admin/hooks/{id}`: 204; its deliveries go with it.
    @Sendable func remove(_ request: Request, context: MarginRequestContext) async throws -> Response {
        try await changingAdmin(request, context: context)
        let id = try Self.id(context, of: "hook")
        guard try await registry.remove(id: id) else { throw CommentsError.hookNotFound(id) }
        return Response(status: .noContent, headers: Self.noStore)
    }

    /// `POST /api/v1/admin/hooks/{id}/test`: sends a sample `comment.held` event now and answers
    /// how it went, whether or not the receiver accepted it (the delivery's state says).
    @Sendable func test(_ request: Request, context: MarginRequestContext) async throws -> Response {
        try await changingAdmin(request, context: context)
        let delivery = try await registry.test(id: try Self.id(context, of: "hook"))
        return try JSONBody.response(encoding: ["delivery": HookDeliveryView(delivery)], headers: Self.noStore)
    }

    /// `GET /api/v1/admin/hooks/{id}/deliveries[?limit=]`: the hook's deliveries, newest first.
    @Sendable func deliveries(_ request: Request, context: MarginRequestContext) async throws -> Response {
        try await admin(request, context: context)
        let id = try Self.id(context, of: "hook")
        let limit = Int(try ActivityRoutes.integer(request, "limit", in: 1...200, fallback: 50) ?? 50)
        let deliveries = try await registry.deliveries(hookID: id, limit: limit)
        return try JSONBody.response(encoding: ["deliveries": deliveries.map(HookDeliveryView.init)], headers: Self.noStore)
    }

    /// `POST /api/v1/admin/hook-deliveries/{id}/retry`: a failed delivery goes back in the queue,
    /// due now; 409 `not_failed` for any other.
    @Sendable func retry(_ request: Request, context: MarginRequestContext) async throws -> Response {
        try await changingAdmin(request, context: context)
        let id = try Self.id(context, of: "delivery")
        guard try await registry.retry(deliveryID: id) else {
            throw APIError(.conflict, code: "not_failed",
                           message: "Delivery \(id) is not a failed delivery: it is pending, delivered or unknown.")
        }
        return try JSONBody.response(encoding: ["retried": true], headers: Self.noStore)
    }
}
