import Comments
import Foundation
import Hummingbird
import Moderation
import SafeHTML

/// Per-site read endpoints that are not a single thread: counts, preview, widget config, feeds.
struct SiteRoutes: Sendable {
    let service: CommentService
    let formTimestamp: FormTimestamp
    /// The server's own public address, used for feed links when a site has no origin.
    let publicURL: String
    var countCache = CountCache()

    /// The body of `POST /api/v1/counts`.
    struct CountsRequest: JSONRequest {
        var site: String?
        var uris: [String]?

        init(_ json: JSONFields) throws {
            site = try json.string("site")
            uris = try json.strings("uris")
        }
    }

    /// The answer to a counts request.
    struct CountsResponse: Encodable {
        var counts: [String: Int]
    }

    /// The body of `POST /api/v1/preview`.
    struct PreviewRequest: JSONRequest {
        var text: String?

        init(_ json: JSONFields) throws {
            text = try json.string("text")
        }
    }

    /// The answer to a preview request.
    struct PreviewResponse: Encodable {
        var html: String
    }

    /// What the widget needs to draw its form (`GET /api/v1/config`).
    struct ConfigResponse: Encodable {
        var site: String
        var name: String
        var moderation: String
        var requireAuthor: Bool
        var requireEmail: Bool
        var editWindowSeconds: Int64
        var limits: LimitsView
        var avatars: String
        var ts: String

        enum CodingKeys: String, CodingKey {
            case site, name, moderation, limits, avatars, ts
            case requireAuthor = "require_author"
            case requireEmail = "require_email"
            case editWindowSeconds = "edit_window_seconds"
        }
    }

    /// Field limits as the widget shows them.
    struct LimitsView: Encodable {
        var text = Limits.textMax
        var author = Limits.authorMax
        var email = Limits.emailMax
        var website = Limits.websiteMax
        var title = Limits.titleMax
    }

    func register(on router: Router<MarginRequestContext>) {
        let api = router.group("api/v1")
        api.get("counts", use: countsByQuery)
        api.post("counts", use: countsByBody)
        api.post("preview", use: preview)
        api.get("config", use: config)
        api.get("feed.atom", use: feed)
    }

    /// `GET /api/v1/counts?site=&uri=…&uri=…`
    @Sendable func countsByQuery(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        return try await counts(siteID: query["site"].map(String.init), uris: query.getAll("uri").map { String($0) })
    }

    /// `POST /api/v1/counts` with `{"site", "uris": [...]}`. A list page sends the same body on
    /// every view, so the answer to each body is kept until anything is written.
    @Sendable func countsByBody(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let bytes = try await JSONBody.collect(request, context: context)
        let stamp = service.store.changeTracking?.changeStamp()
        if let known = countCache.answer(to: bytes, stamp: stamp) {
            return JSONBody.response(known)
        }
        let body = try JSONBody.decode(CountsRequest.self, from: bytes)
        guard let uris = body.uris else { throw CommentsError.invalidField(field: "uris", message: "is required") }
        let answer = try await counts(siteID: body.site, uris: uris, stamp: stamp)
        countCache.rememberAnswer(answer, to: bytes, stamp: stamp)
        return JSONBody.response(answer)
    }

    /// Counts from memory while nothing was written anywhere since they were read.
    func counts(siteID: String?, uris: [String]) async throws -> Response {
        JSONBody.response(try await counts(siteID: siteID, uris: uris, stamp: service.store.changeTracking?.changeStamp()))
    }

    /// The encoded answer for `uris`, from counts valid at `stamp`.
    func counts(siteID: String?, uris: [String], stamp: Int64?) async throws -> ByteBuffer {
        let normalized = try CommentService.countedURIs(uris)
        let wanted = Set(normalized.values)
        let counts: [String: Int]
        if let siteID, let known = countCache.counts(siteID: siteID, uris: wanted, stamp: stamp) {
            counts = known
        } else {
            let site = try await service.requireSite(siteID)
            let stored = try await service.store.approvedCounts(siteID: site.id, uris: Array(wanted))
            counts = Dictionary(uniqueKeysWithValues: wanted.map { ($0, stored[$0] ?? 0) })
            countCache.remember(siteID: site.id, counts: counts, stamp: stamp)
        }
        // Written by hand: JSONEncoder was the largest cost of a cached answer. Keys sorted, as
        // the encoder wrote them.
        var json = JSONWriter(capacity: 64 + normalized.count * 32)
        json.raw("{\"counts\":{")
        for (index, (given, uri)) in normalized.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { json.raw(",") }
            json.string(given)
            json.raw(":")
            json.number(counts[uri] ?? 0)
        }
        json.raw("}}")
        return ByteBuffer(bytes: json.bytes)
    }

    /// `POST /api/v1/preview` with `{"text"}`: the HTML the comment would be stored with.
    @Sendable func preview(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(PreviewRequest.self, from: request, context: context)
        let text = try FieldRules.text(body.text)
        return try JSONBody.response(encoding: PreviewResponse(html: Markdown.render(text)))
    }

    /// `GET /api/v1/config?site=`
    @Sendable func config(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let site = try await service.requireSite(request.uri.queryParameters["site"].map(String.init))
        let response = ConfigResponse(
            site: site.id, name: site.name, moderation: site.moderation.rawValue, requireAuthor: site.requireAuthor,
            requireEmail: site.requireEmail, editWindowSeconds: service.editWindowMillis / 1000, limits: LimitsView(),
            avatars: site.avatars.rawValue, ts: formTimestamp.sign(millis: service.clock.nowMillis(), site: site.id))
        return try JSONBody.response(encoding: response, headers: [.cacheControl: "no-store"])
    }

    /// `GET /api/v1/feed.atom?site=[&uri=]`: the latest comments of a site or of one thread.
    @Sendable func feed(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let site = try await service.requireSite(query["site"].map(String.init))
        var thread: CommentThread?
        var entries: [AtomFeed.Entry]
        if let rawURI = query["uri"].map(String.init) {
            let uri = try FieldRules.uri(rawURI)
            if let (found, comments) = try await service.store.visibleComments(siteID: site.id, uri: uri) {
                thread = found
                entries = comments.filter { $0.status == .approved }.suffix(100).reversed().map { AtomFeed.Entry(thread: found, comment: $0) }
            } else {
                thread = CommentThread(id: 0, siteID: site.id, uri: uri, title: nil, locked: false, createdAt: service.clock.nowMillis(), version: 0)
                entries = []
            }
        } else {
            entries = try await service.store.latestApproved(siteID: site.id, limit: 100).map { AtomFeed.Entry(thread: $0.0, comment: $0.1) }
        }
        let base = site.origins.first(where: { !$0.contains("*") }) ?? publicURL
        let feedURL = publicURL + "/api/v1/feed.atom?" + (request.uri.query ?? "")
        let xml = AtomFeed.render(site: site, thread: thread, entries: entries, baseURL: base, feedURL: feedURL, now: service.clock.nowMillis())
        return Response(
            status: .ok, headers: [.contentType: "application/atom+xml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: xml)))
    }
}
