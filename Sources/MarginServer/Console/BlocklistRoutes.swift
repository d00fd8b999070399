import Comments
import Foundation
import Hummingbird
import Moderation

/// The blocklist in the moderation API (`/api/v1/admin/blocklist`): moderators list, add and
/// remove the entries of their sites, as `margin block --site` does; the entries for every site
/// they see, but only admins change them.
struct BlocklistRoutes: Sendable {
    let gate: ConsoleGate
    let store: any CommentStore
    let clock: any MarginClock

    func register(on router: Router<MarginRequestContext>) {
        let group = router.group("api/v1/admin/blocklist")
        group.get(use: list)
        group.post(use: add)
        group.delete(use: remove)
    }

    /// `GET /api/v1/admin/blocklist[?site=]`: the entries of the caller's sites (an admin: of
    /// every site) and the global ones; with `site`, that site's and the global ones.
    @Sendable func list(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.caller(request, context: context)
        let entries: [BlockEntry]
        if let site = try await visibleSite(request.uri.queryParameters["site"].map(String.init), caller: caller) {
            entries = try await store.blocklist().filter { $0.applies(to: site) }
        } else {
            entries = try await store.blocklist().filter { entry in entry.siteID.map(caller.role.sees(siteID:)) ?? true }
        }
        return try JSONBody.response(encoding: ["entries": entries], headers: [.cacheControl: "no-store"])
    }

    /// A site named by the request (nil for none or empty) that exists and the caller may see;
    /// else 404 `site_not_found`, so a moderator learns nothing of other sites.
    func visibleSite(_ id: String?, caller: ConsoleCaller) async throws -> String? {
        guard let id, !id.isEmpty else { return nil }
        try caller.requireSite(id)
        guard try await store.site(id: id) != nil else { throw CommentsError.siteNotFound(id) }
        return id
    }

    /// A checked entry from its kind and value.
    static func entry(kind kindText: String?, value: String?, reason: String?, at: Int64, siteID: String? = nil) throws -> BlockEntry {
        guard let kindText, let kind = BlockKind(rawValue: kindText) else {
            throw CommentsError.invalidField(field: "kind", message: "must be \(BlockKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let value else { throw CommentsError.invalidField(field: "value", message: "is missing") }
        do {
            let normalized = try BlockValue.normalize(kind: kind, value: String(value.prefix(500)))
            return BlockEntry(kind: kind, value: normalized, reason: reason.map { String($0.prefix(500)) }, createdAt: at, siteID: siteID)
        } catch {
            throw CommentsError.invalidField(field: "value", message: error.message)
        }
    }

    /// The body of `POST /api/v1/admin/blocklist`.
    struct AddRequest: JSONRequest {
        var kind: String?
        var value: String?
        var reason: String?
        var site: String?
        init(_ json: JSONFields) throws {
            site = try json.string("site")
            kind = try json.string("kind")
            value = try json.string("value")
            reason = try json.string("reason").flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        }
    }

    /// `POST /api/v1/admin/blocklist {"kind", "value", "reason", "site"}`: 201 with the entry as
    /// stored. A moderator names one of their sites; an admin may leave `site` out (every site).
    @Sendable func add(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.changingCaller(request, context: context)
        let body = try await JSONBody.decode(AddRequest.self, from: request, context: context)
        // An empty site is a mistake, not a wish to block on every site.
        if body.site?.isEmpty == true { throw CommentsError.invalidField(field: "site", message: "must be a site id, or left out for every site") }
        let site = try await visibleSite(body.site, caller: caller)
        if site == nil, !caller.role.isAdmin {
            throw CommentsError.invalidField(field: "site", message: "must name one of your sites (only admins block on every site)")
        }
        let entry = try Self.entry(kind: body.kind, value: body.value, reason: body.reason, at: clock.nowMillis(), siteID: site)
        try await store.addBlock(entry)
        return try JSONBody.response(encoding: entry, status: .created)
    }

    /// `DELETE /api/v1/admin/blocklist?kind=&value=[&site=]`: 204, or 404 when nothing matched.
    /// Without `site` it removes the entry for every site, which only admins may.
    @Sendable func remove(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.changingCaller(request, context: context)
        let query = request.uri.queryParameters
        let site = try await visibleSite(query["site"].map(String.init), caller: caller)
        if site == nil { try caller.requireAdmin() }
        let entry = try Self.entry(kind: query["kind"].map(String.init), value: query["value"].map(String.init), reason: nil, at: 0)
        guard try await store.removeBlock(kind: entry.kind, value: entry.value, siteID: site) else {
            let scope = site.map { "on site '\($0)'" } ?? "on every site"
            throw APIError(.notFound, code: "not_found", message: "\(entry.kind.rawValue) '\(entry.value)' is not blocked \(scope).")
        }
        return Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }
}
