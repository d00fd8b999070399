import Comments
import Foundation
import HTTPTypes
import Hummingbird
import Moderation

/// The reader-facing comment API under `/api/v1`: read a thread, post, edit, delete, vote.
struct CommentsRoutes: Sendable {
    let service: CommentService
    let cache: ThreadCache
    let limiter: RateLimiter
    /// The posting limit of sites that set none.
    let defaultRateLimit: RateLimit
    /// Counts posts by verdict and thread reads by how the cache answered.
    let metrics: ServerMetrics
    /// Votes one client network may cast (`vote_rate_limit`), whatever the site.
    var voteRateLimit: RateLimit = .off
    /// New threads one client network may start (`new_threads_per_hour`); `.off` for no limit.
    var newThreadLimit: RateLimit = .off

    /// The body of `POST /api/v1/comments`.
    struct PostRequest: JSONRequest {
        var site, uri, title, author, email, website, text, hp, ts: String?
        /// The widget's random author key (`author_key`), stored only hashed.
        var authorKey: String?
        var parent: Int64?
        var notify: Bool?

        init(_ json: JSONFields) throws {
            site = try json.string("site")
            uri = try json.string("uri")
            title = try json.string("title")
            parent = try json.integer("parent")
            author = try json.string("author")
            email = try json.string("email")
            website = try json.string("website")
            text = try json.string("text")
            notify = try json.boolean("notify")
            hp = try json.string("hp")
            ts = try json.string("ts")
            authorKey = try json.string("author_key")
        }
    }

    /// The body of `PATCH /api/v1/comments/{id}`.
    struct EditRequest: JSONRequest {
        var text, author, website: String?

        init(_ json: JSONFields) throws {
            text = try json.string("text")
            author = try json.string("author")
            website = try json.string("website")
        }
    }

    /// The body of `POST /api/v1/comments/{id}/vote`.
    struct VoteRequest: JSONRequest {
        var value: Int64?

        init(_ json: JSONFields) throws {
            value = try json.integer("value")
        }
    }

    func register(on router: Router<MarginRequestContext>) {
        let api = router.group("api/v1")
        api.get("comments", use: thread)
        api.post("comments", use: post)
        api.patch("comments/:id", use: edit)
        api.delete("comments/:id", use: delete)
        api.post("comments/:id/vote", use: vote)
    }

    /// `GET /api/v1/comments?site=&uri=[&limit=&after=]`
    @Sendable func thread(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let siteID = query["site"].map(String.init)
        let uri = try FieldRules.uri(query["uri"].map(String.init))
        let limit = try Self.integer(query["limit"].map(String.init), field: "limit", in: 1...ThreadDocument.maxLimit)
        let after = try Self.integer(query["after"].map(String.init), field: "after", in: 1...Int64.max)
        // Asked before anything is read, so an entry is never stamped newer than what it holds.
        let stamp = service.store.changeTracking?.changeStamp()
        // A limit the thread cannot reach shares the whole thread's entry (judged by that entry
        // while nothing changed since): varying it makes no new entries.
        let asked = cache.normalized(ThreadQuery(siteID: siteID, uri: uri, limit: limit, after: after)) { whole in
            stamp != nil && whole.stamp == stamp
        }
        let key = asked.key

        let entry: ThreadCache.Entry
        if let fresh = cache.fresh(key, stamp: stamp) {
            metrics.threadCache.hit.increment()
            entry = fresh
        } else if let unchanged = cache.unchanged(key, stamp: stamp, store: service.store) {
            // Only other threads were written since (this process's new comments, say).
            metrics.threadCache.revalidated.increment()
            entry = unchanged
        } else {
            metrics.threadCache.miss.increment()
            entry = try await load(asked, stamp: stamp)
        }
        // gzip when the client takes it and the body is worth it, compressed once per entry.
        let gzip = entry.body.readableBytes >= Gzip.minimumBytes && Gzip.isAccepted(by: request.headers[.acceptEncoding])
            ? cache.gzipped(entry) : nil
        let etag = gzip == nil ? entry.etag : entry.gzipETag
        var headers = HTTPFields()
        headers[.eTag] = etag
        headers[.cacheControl] = "no-cache"
        headers.append(HTTPField(name: .vary, value: "Accept-Encoding"))
        // The entry is current at `stamp`, and the answer depends only on what the key holds.
        AnswerReplayBook.mark(&headers, stamp: stamp, route: context.endpointPath)
        if ifNoneMatch(request.headers[.ifNoneMatch], matches: etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = "application/json; charset=utf-8"
        guard let gzip else { return Response(status: .ok, headers: headers, body: .init(byteBuffer: entry.body)) }
        headers[.contentEncoding] = "gzip"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: gzip))
    }

    /// The encoded answer to `query` as the store holds it now. Requests that miss together at
    /// the same stamp share one load: a cold cache under load otherwise reads and encodes a big
    /// thread once per waiting client.
    func load(_ query: ThreadQuery, stamp: Int64?) async throws -> ThreadCache.Entry {
        let key = query.key
        return try await cache.loadOnce(key, stamp: stamp) { [service, cache] in
            // Taken before reading, like the stamp, so the entry is never marked newer than it is.
            let mark = stamp.flatMap { service.store.changeTracking?.changeMark(at: $0) }
            let site = try await service.requireSite(query.siteID)
            let (uri, limit, after) = (query.uri, query.limit, query.after)
            if let thread = try await service.store.thread(siteID: site.id, uri: uri) {
                // The whole thread's entry, if it is of this version, tells whether the limit cuts.
                let current = cache.normalized(query) { $0.version == thread.version && $0.avatars == site.avatars }
                if let cached = cache.lookup(current.key, version: thread.version, avatars: site.avatars, stamp: stamp, mark: mark) {
                    return cached
                }
            }
            if let (thread, comments) = try await service.store.visibleComments(siteID: site.id, uri: uri) {
                let (bytes, topLevel) = try ThreadDocument.encodeCounting(
                    siteID: site.id, uri: uri, thread: thread, comments: comments, limit: limit, after: after, avatars: site.avatars)
                return cache.store(
                    query.normalized(topLevel: topLevel), version: thread.version, threadID: thread.id, avatars: site.avatars,
                    bytes: bytes, stamp: stamp, mark: mark, topLevel: topLevel)
            } else {
                if after != nil { throw CommentsError.invalidField(field: "after", message: "is not a top-level comment of this thread") }
                let bytes = try ThreadDocument.encode(siteID: site.id, uri: uri, thread: nil, comments: [], limit: limit, after: nil)
                // No thread yet: valid only while nothing at all changes.
                return cache.store(query, version: -1, threadID: nil, avatars: site.avatars, bytes: bytes, stamp: stamp, mark: nil)
            }
        }
    }

    /// Encodes again the cached answers of a thread that just got a comment, before the poster
    /// hears back: the widget reloads the thread right after posting, and under a mixed load the
    /// first reader after every new comment otherwise waited for that load (9 % of the reads in
    /// bench scenario e missed the cache). Best effort: a failure leaves the next reader to load.
    func refreshCachedAnswers(of threadID: Int64) async {
        let stamp = service.store.changeTracking?.changeStamp()
        for query in cache.queries(ofThread: threadID) {
            _ = try? await load(query, stamp: stamp)
        }
    }

    /// `POST /api/v1/comments`: 201 when published, 202 when held or judged spam.
    @Sendable func post(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(PostRequest.self, from: request, context: context)
        let site = try await service.requireSite(body.site)
        try Self.checkOrigin(request, site: site)
        try await checkClient(context, site: site)
        try await checkNewThread(body, site: site, context: context)
        let input = PostInput(
            site: body.site, uri: body.uri, title: body.title, parent: body.parent, author: body.author,
            email: body.email, website: body.website, text: body.text, notify: body.notify, honeypot: body.hp,
            formTimestamp: body.ts, authorKey: body.authorKey)
        let posted = try await service.post(input, site: site, client: Self.client(request, context))
        metrics.recordPosted(posted.comment.status)
        await refreshCachedAnswers(of: posted.thread.id)
        let status: HTTPResponse.Status = posted.comment.status == .approved ? .created : .accepted
        return JSONBody.response(Self.authorView(posted), status: status)
    }

    /// `PATCH /api/v1/comments/{id}` with the edit token.
    @Sendable func edit(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let id = try Self.commentID(context)
        let token = try Self.requireBearer(request)
        try await checkOrigin(request, commentID: id)
        let body = try await JSONBody.decode(EditRequest.self, from: request, context: context)
        let posted = try await service.edit(
            commentID: id, token: token, input: EditInput(text: body.text, author: body.author, website: body.website))
        return JSONBody.response(Self.authorView(posted))
    }

    /// `DELETE /api/v1/comments/{id}` with the edit token.
    @Sendable func delete(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let id = try Self.commentID(context)
        let token = try Self.requireBearer(request)
        try await checkOrigin(request, commentID: id)
        let outcome = try await service.delete(commentID: id, token: token)
        var json = JSONWriter()
        json.raw("{")
        json.key("id"); json.number(id); json.raw(",")
        json.key("deleted"); json.raw("true,")
        json.key("tombstone"); json.bool(outcome == .tombstoned)
        json.raw("}")
        return JSONBody.response(json.bytes)
    }

    /// `POST /api/v1/comments/{id}/vote` with `{"value": 1 | -1}`.
    @Sendable func vote(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let id = try Self.commentID(context)
        // Looked up once: for the Origin check and for the site's own vote limit.
        let site = try await siteOfComment(id)
        try checkOrigin(request, site: site, commentID: id)
        let body = try await JSONBody.decode(VoteRequest.self, from: request, context: context)
        if let ip = context.clientIP {
            try await checkBlocked(ip, siteID: site?.id)
            // The site's own limit when it has one; an unknown comment is the service's 404.
            if let wait = await limiter.take(site: "votes", client: IPAnonymizer.clientKey(of: ip), limit: site?.voteRateLimit ?? voteRateLimit) {
                throw APIError(
                    .tooManyRequests, code: "rate_limited",
                    message: "Too many votes from your network; try again in \(wait) second(s).",
                    headers: [.retryAfter: String(wait)])
            }
        }
        let totals = try await service.vote(commentID: id, value: body.value.map { Int(clamping: $0) }, client: Self.client(request, context))
        return try JSONBody.response(encoding: totals)
    }

    // MARK: Helpers

    /// An address blocklisted for the site (or for every site) is refused (403 `blocked`), for
    /// posts and votes alike; `siteID` nil (an unknown comment) checks the global entries.
    func checkBlocked(_ ip: String, siteID: String?) async throws {
        let blocked = try await service.sites.blocklist(siteID: siteID).contains {
            $0.kind == .ip && IPBlock.matches(rule: $0.value.lowercased(), address: ip)
        }
        if blocked {
            throw APIError(.forbidden, code: "blocked", message: "Comments from your network are not accepted here.")
        }
    }

    /// The site of comment `id`, nil when there is no such comment.
    func siteOfComment(_ id: Int64) async throws -> Site? {
        guard let comment = try await service.store.comment(id: id),
              let thread = try await service.store.thread(id: comment.threadID)
        else { return nil }
        return try await service.sites.site(id: thread.siteID)
    }

    /// A post that would start a thread counts against the client network's new-thread limit
    /// (429 `too_many_new_threads`); posts to threads that exist are not counted. A site whose
    /// posting limit is `off` trusts its clients with any number of comments (a closed circle,
    /// imports, load tests), so it has no new-thread limit either.
    func checkNewThread(_ body: PostRequest, site: Site, context: MarginRequestContext) async throws {
        guard !newThreadLimit.windows.isEmpty, !(site.rateLimit ?? defaultRateLimit).windows.isEmpty,
              let ip = context.clientIP
        else { return }
        // Invalid posts are refused by the service as always, and cost nothing here.
        guard let uri = try? FieldRules.uri(body.uri), (try? FieldRules.text(body.text)) != nil,
              try await service.store.thread(siteID: site.id, uri: uri) == nil
        else { return }
        if let wait = await limiter.take(site: "new-threads", client: IPAnonymizer.clientKey(of: ip), limit: newThreadLimit) {
            throw APIError(
                .tooManyRequests, code: "too_many_new_threads",
                message: "Too many new pages commented on from your network; comment on a page that has comments, or try again in \(wait) second(s).",
                headers: [.retryAfter: String(wait)])
        }
    }

    /// Hard limits before anything is judged: a blocklisted address is refused (403), and a
    /// client network over the site's rate limit waits (429 with Retry-After).
    func checkClient(_ context: MarginRequestContext, site: Site) async throws {
        guard let ip = context.clientIP else { return }
        try await checkBlocked(ip, siteID: site.id)
        if let wait = await limiter.take(site: site.id, client: IPAnonymizer.clientKey(of: ip), limit: site.rateLimit ?? defaultRateLimit) {
            throw APIError(
                .tooManyRequests, code: "rate_limited",
                message: "Too many comments from your address; try again in \(wait) second(s).",
                headers: [.retryAfter: String(wait)])
        }
    }

    /// A comment as its author sees it right after writing: with its markdown, status and token.
    static func authorView(_ posted: PostedComment) -> [UInt8] {
        let comment = posted.comment
        var json = JSONWriter(capacity: 512 + comment.html.utf8.count + comment.body.utf8.count)
        json.raw("{")
        json.key("id"); json.number(comment.id); json.raw(",")
        json.key("parent"); json.number(comment.parentID); json.raw(",")
        json.key("uri"); json.string(posted.thread.uri); json.raw(",")
        json.key("status"); json.string(comment.status == .spam ? CommentStatus.pending.rawValue : comment.status.rawValue); json.raw(",")
        json.key("author"); json.string(comment.author); json.raw(",")
        json.key("website"); json.string(comment.website); json.raw(",")
        json.key("text"); json.string(comment.body); json.raw(",")
        json.key("html"); json.string(comment.html, htmlSafe: false); json.raw(",")
        json.key("created"); json.number(comment.createdAt); json.raw(",")
        json.key("edited"); json.number(comment.editedAt); json.raw(",")
        json.key("likes"); json.number(comment.likes); json.raw(",")
        json.key("dislikes"); json.number(comment.dislikes); json.raw(",")
        json.key("notify"); json.bool(comment.notify); json.raw(",")
        if let token = posted.editToken {
            json.key("edit_token"); json.string(token); json.raw(",")
        }
        json.key("editable_until"); json.number(posted.editableUntil)
        json.raw("}")
        return json.bytes
    }

    static func client(_ request: Request, _ context: MarginRequestContext) -> ClientInfo {
        ClientInfo(ip: context.clientIP, userAgent: request.headers[.userAgent])
    }

    static func commentID(_ context: MarginRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError(.notFound, code: "comment_not_found", message: "No comment with that id.")
        }
        return id
    }

    /// The edit token, or 401 before anything else is judged when the request carries none.
    static func requireBearer(_ request: Request) throws -> String {
        guard let token = bearer(request), !token.isEmpty else { throw CommentsError.invalidEditToken }
        return token
    }

    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    static func integer<I: FixedWidthInteger>(_ text: String?, field: String, in range: ClosedRange<I>) throws -> I? {
        guard let text else { return nil }
        guard let value = I(text), range.contains(value) else {
            throw CommentsError.invalidField(field: field, message: "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// CSRF defence for writes: a browser's `Origin` must be one of the site's.
    static func checkOrigin(_ request: Request, site: Site) throws {
        guard let origin = request.headers[.origin] else { return }
        guard site.allows(origin: origin) else { throw CommentsError.originNotAllowed(origin) }
    }

    /// The CSRF check for a request about comment `commentID`, whose site is looked up only when
    /// the request carries an `Origin`.
    func checkOrigin(_ request: Request, commentID: Int64) async throws {
        guard request.headers[.origin] != nil else { return }
        try checkOrigin(request, site: try await siteOfComment(commentID), commentID: commentID)
    }

    /// The CSRF check with the comment's site already at hand (nil: there is no such comment,
    /// which a request with an `Origin` is told).
    func checkOrigin(_ request: Request, site: Site?, commentID: Int64) throws {
        guard request.headers[.origin] != nil else { return }
        guard let site else { throw CommentsError.commentNotFound(commentID) }
        try Self.checkOrigin(request, site: site)
    }
}
