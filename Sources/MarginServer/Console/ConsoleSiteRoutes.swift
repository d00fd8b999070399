import Comments
import Foundation
import Hummingbird
import Moderation

/// Sites in the moderation API (`/api/v1/admin/sites…`): a moderator sees their own; admins
/// change settings.
struct ConsoleSiteRoutes: Sendable {
    let gate: ConsoleGate
    let store: any CommentStore

    func register(on router: Router<MarginRequestContext>) {
        let group = router.group("api/v1/admin/sites")
        group.get(use: list)
        group.get(":id", use: one)
        group.patch(":id", use: update)
    }

    /// A site with its counts and the snippet that embeds it.
    struct SiteView: Encodable {
        var id: String
        var name: String
        var origins: [String]
        var moderation: ModerationMode
        var requireAuthor: Bool
        var requireEmail: Bool
        var rateLimit: String?
        var voteRateLimit: String?
        var moderators: [String]
        var avatars: AvatarSource
        var createdAt: Int64
        var comments: Int
        var pending: Int
        var embedSnippet: String

        enum CodingKeys: String, CodingKey {
            case id, name, origins, moderation, moderators, avatars, comments, pending
            case requireAuthor = "require_author"
            case requireEmail = "require_email"
            case rateLimit = "rate_limit"
            case voteRateLimit = "vote_rate_limit"
            case createdAt = "created_at"
            case embedSnippet = "embed_snippet"
        }

        /// Every key, `null` included: a client reads a missing key as a mistake, not as null.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(origins, forKey: .origins)
            try container.encode(moderation, forKey: .moderation)
            try container.encode(requireAuthor, forKey: .requireAuthor)
            try container.encode(requireEmail, forKey: .requireEmail)
            try container.encode(rateLimit, forKey: .rateLimit)
            try container.encode(voteRateLimit, forKey: .voteRateLimit)
            try container.encode(moderators, forKey: .moderators)
            try container.encode(avatars, forKey: .avatars)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(comments, forKey: .comments)
            try container.encode(pending, forKey: .pending)
            try container.encode(embedSnippet, forKey: .embedSnippet)
        }
    }

    func view(_ site: Site) async throws -> SiteView {
        let counts = try await store.statusCounts(siteIDs: [site.id])
        let snippet = "<div id=\"margin-thread\"></div>\n<script src=\"\(gate.publicURL)/embed.js\" data-site=\"\(site.id)\" async></script>"
        return SiteView(
            id: site.id, name: site.name, origins: site.origins, moderation: site.moderation, requireAuthor: site.requireAuthor,
            requireEmail: site.requireEmail, rateLimit: site.rateLimit?.description, voteRateLimit: site.voteRateLimit?.description,
            moderators: site.moderators, avatars: site.avatars, createdAt: site.createdAt,
            comments: counts.values.reduce(0, +), pending: counts[.pending] ?? 0, embedSnippet: snippet)
    }

    /// `GET /api/v1/admin/sites`: the sites the caller sees.
    @Sendable func list(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.caller(request, context: context)
        var views: [SiteView] = []
        for site in try await store.sites() where caller.role.sees(siteID: site.id) {
            views.append(try await view(site))
        }
        return try JSONBody.response(encoding: ["sites": views], headers: [.cacheControl: "no-store"])
    }

    func visibleSite(_ context: MarginRequestContext, caller: ConsoleCaller) async throws -> Site {
        let id = context.parameters.get("id") ?? ""
        try caller.requireSite(id)
        guard let site = try await store.site(id: id) else { throw CommentsError.siteNotFound(id) }
        return site
    }

    /// `GET /api/v1/admin/sites/{id}`.
    @Sendable func one(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.caller(request, context: context)
        return try JSONBody.response(encoding: try await view(try await visibleSite(context, caller: caller)), headers: [.cacheControl: "no-store"])
    }

    /// The body of `PATCH /api/v1/admin/sites/{id}`: only the fields sent change.
    struct Changes: JSONRequest {
        var name: String?
        var origins: [String]?
        var moderation: ModerationMode?
        var rateLimit: RateLimit??
        var voteRateLimit: RateLimit??
        var moderators: [String]?
        var avatars: AvatarSource?
        var requireAuthor: Bool?
        var requireEmail: Bool?

        init(_ json: JSONFields) throws {
            if let name = try json.string("name") {
                let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !trimmed.isEmpty, trimmed.count <= 200 else {
                    throw CommentsError.invalidField(field: "name", message: "must be 1 to 200 characters")
                }
                self.name = trimmed
            }
            origins = try json.strings("origins").map(SiteRules.origins)
            moderation = try Self.enumeration(json, "moderation", ModerationMode.self)
            avatars = try Self.enumeration(json, "avatars", AvatarSource.self)
            if json.values.keys.contains("rate_limit") { rateLimit = .some(try SiteRules.rateLimit(try json.string("rate_limit"))) }
            if json.values.keys.contains("vote_rate_limit") {
                voteRateLimit = .some(try SiteRules.rateLimit(try json.string("vote_rate_limit"), field: "vote_rate_limit"))
            }
            moderators = try json.strings("moderators").map(SiteRules.moderators)
            requireAuthor = try json.boolean("require_author")
            requireEmail = try json.boolean("require_email")
        }

        static func enumeration<T: RawRepresentable & CaseIterable>(_ json: JSONFields, _ key: String, _: T.Type) throws -> T? where T.RawValue == String {
            guard let text = try json.string(key) else { return nil }
            guard let value = T(rawValue: text) else {
                throw CommentsError.invalidField(field: key, message: "must be \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }

        func apply(to site: inout Site) {
            if let name { site.name = name }
            if let origins { site.origins = origins }
            if let moderation { site.moderation = moderation }
            if let rateLimit { site.rateLimit = rateLimit }
            if let voteRateLimit { site.voteRateLimit = voteRateLimit }
            if let moderators { site.moderators = moderators }
            if let avatars { site.avatars = avatars }
            if let requireAuthor { site.requireAuthor = requireAuthor }
            if let requireEmail { site.requireEmail = requireEmail }
        }
    }

    /// `PATCH /api/v1/admin/sites/{id}` (admins): changes the settings sent, keeps the rest.
    @Sendable func update(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.changingCaller(request, context: context)
        var site = try await visibleSite(context, caller: caller)
        try caller.requireAdmin()
        let changes = try await JSONBody.decode(Changes.self, from: request, context: context)
        changes.apply(to: &site)
        try await store.updateSite(site)
        return try JSONBody.response(encoding: try await view(site))
    }
}
