import Comments
import Foundation
import Hummingbird
import Moderation
import SafeHTML

/// The moderation API's comments (`/api/v1/admin/comments…`): the queue with search and keyset
/// paging, one comment with its context, decisions on one or many, and moderator edits. Every
/// decision goes through `Moderator`, as the CLI's and the mailed links' do.
struct CommentModerationRoutes: Sendable {
    let gate: ConsoleGate
    let store: any CommentStore
    let moderator: Moderator
    let clock: any MarginClock

    /// Most comments one page or one bulk request may hold.
    static let pageMax = 200
    static let bulkMax = 500

    func register(on router: Router<MarginRequestContext>) {
        let group = router.group("api/v1/admin/comments")
        group.get(use: list)
        group.post("bulk", use: bulk)
        group.get(":id", use: detail)
        group.patch(":id", use: edit)
        group.post(":id/:action", use: act)
    }

    var builder: ModeratedCommentBuilder { ModeratedCommentBuilder(store: store) }

    /// The answer of a listing: a page and where the next one starts.
    struct Page: Encodable {
        var comments: [ModeratedComment]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey {
            case comments
            case nextCursor = "next_cursor"
        }

        /// Every key, `null` included: a client reads a missing key as a mistake, not as null.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(comments, forKey: .comments)
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }

    /// `GET /api/v1/admin/comments?site=&status=&q=&author=&email=&network=&thread=&order=&cursor=&limit=`.
    @Sendable func list(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.caller(request, context: context)
        let query = try CommentListQuery(request.uri.queryParameters, caller: caller)
        // One more than asked for: a next page is announced only when there is one.
        var storeQuery = query.storeQuery
        storeQuery.limit += 1
        var rows = try await store.comments(matching: storeQuery)
        let more = rows.count > query.storeQuery.limit
        if more { rows.removeLast() }
        let next = more ? rows.last.map { CommentListQuery.cursor(of: $0.1) } : nil
        return try JSONBody.response(encoding: Page(comments: try await builder.views(rows), nextCursor: next), headers: [.cacheControl: "no-store"])
    }

    /// A comment the caller may see: 404 for one of another site, as for one that does not exist.
    func visibleComment(_ context: MarginRequestContext, caller: ConsoleCaller) async throws -> (CommentThread, Comment) {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw CommentsError.invalidField(field: "id", message: "must be a comment id")
        }
        return try await visibleComment(id: id, caller: caller)
    }

    func visibleComment(id: Int64, caller: ConsoleCaller) async throws -> (CommentThread, Comment) {
        guard let comment = try await store.comment(id: id), let thread = try await store.thread(id: comment.threadID),
              caller.role.sees(siteID: thread.siteID)
        else { throw CommentsError.commentNotFound(id) }
        return (thread, comment)
    }

    /// The answer of `GET /api/v1/admin/comments/{id}`.
    struct Detail: Encodable {
        var comment: ModeratedComment
        var parent: ModeratedComment?
        var replies: [ModeratedComment]
        var history: [ModeratedComment]
        var log: [ModerationLogEntry]

        enum CodingKeys: String, CodingKey { case comment, parent, replies, history, log }

        /// Every key, `null` included: a client reads a missing key as a mistake, not as null.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(comment, forKey: .comment)
            try container.encode(parent, forKey: .parent)
            try container.encode(replies, forKey: .replies)
            try container.encode(history, forKey: .history)
            try container.encode(log, forKey: .log)
        }
    }

    /// `GET /api/v1/admin/comments/{id}`: the comment, its parent and replies, the author's
    /// other comments (by address and by network) and its log.
    @Sendable func detail(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.caller(request, context: context)
        let (thread, comment) = try await visibleComment(context, caller: caller)
        var rows: [(CommentThread, Comment)] = [(thread, comment)]
        var parentIndex: Int?
        // Parent and replies must be of the same thread: imported data is not trusted to be.
        if let parentID = comment.parentID, let parent = try await store.comment(id: parentID), parent.threadID == thread.id {
            parentIndex = rows.count
            rows.append((thread, parent))
        }
        let replies = try await store.replies(to: comment.id, limit: 100).filter { $0.threadID == thread.id }.map { (thread, $0) }
        let history = try await store.authorHistory(
            email: comment.email, network: comment.ip, siteIDs: caller.role.siteIDs, excluding: comment.id, limit: 50)
        let views = try await builder.views(rows + replies + history)
        let repliesEnd = rows.count + replies.count
        let detail = Detail(
            comment: views[0], parent: parentIndex.map { views[$0] },
            replies: Array(views[rows.count..<repliesEnd]), history: Array(views[repliesEnd...]),
            log: try await store.moderationLog(commentID: comment.id, limit: 100))
        return try JSONBody.response(encoding: detail, headers: [.cacheControl: "no-store"])
    }

    /// An optional reason, from a JSON body when one is sent.
    struct Reason: JSONRequest {
        var reason: String?
        init(_ json: JSONFields) throws {
            reason = try json.string("reason").flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : String($0.prefix(500)) }
        }
    }

    /// The answer to one decision.
    struct Decided: Encodable {
        var comment: ModeratedComment?
        var previousStatus: CommentStatus
        enum CodingKeys: String, CodingKey {
            case comment
            case previousStatus = "previous_status"
        }

        /// Every key, `null` included: a client reads a missing key as a mistake, not as null.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(comment, forKey: .comment)
            try container.encode(previousStatus, forKey: .previousStatus)
        }
    }

    /// `POST /api/v1/admin/comments/{id}/{approve|reject|spam|delete|restore}` with an optional `{"reason"}`.
    @Sendable func act(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.changingCaller(request, context: context)
        guard let actionText = context.parameters.get("action"), let action = ModerationAction(rawValue: actionText) else {
            throw APIError(.notFound, code: "not_found", message: "There is no such moderation action.")
        }
        let (_, comment) = try await visibleComment(context, caller: caller)
        let reason = try await optionalReason(request, context: context)
        let after = try await decide(comment.id, action: action, caller: caller, reason: reason)
        var view: ModeratedComment?
        if let after { view = try await builder.view(after) }
        return try JSONBody.response(encoding: Decided(comment: view, previousStatus: comment.status))
    }

    /// A body is optional here: none, or a JSON object with `reason`.
    func optionalReason(_ request: Request, context: MarginRequestContext) async throws -> String? {
        var request = request
        let bytes = Array(try await request.collectBody(upTo: context.maxUploadSize).readableBytesView)
        // No body (or an empty one) is no reason; anything else must be a JSON object.
        guard bytes.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return nil }
        guard JSONBody.isJSON(request.headers[.contentType]) else { throw APIError.unsupportedMediaType }
        return try JSONBody.decode(Reason.self, from: bytes).reason
    }

    /// Applies one decision through `Moderator`; the comment afterwards (nil when removed).
    func decide(_ id: Int64, action: ModerationAction, caller: ConsoleCaller, reason: String?) async throws -> Comment? {
        switch try await moderator.act(on: id, action: action, actor: .adminAPI, moderator: caller.moderator, reason: reason) {
        case .applied(let comment): return comment
        case .linkAlreadyUsed(let comment), .alreadyDecided(_, let comment): return comment
        }
    }

    /// The body of `POST /api/v1/admin/comments/bulk`.
    struct BulkRequest: JSONRequest {
        var ids: [Int64]
        var action: ModerationAction
        var reason: String?
        init(_ json: JSONFields) throws {
            guard let action = ModerationAction(rawValue: try json.required("action")) else {
                throw CommentsError.invalidField(field: "action", message: "must be \(ModerationAction.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.action = action
            let ids = try json.integers("ids") ?? []
            guard (1...CommentModerationRoutes.bulkMax).contains(ids.count), ids.allSatisfy({ $0 > 0 }) else {
                throw CommentsError.invalidField(field: "ids", message: "must hold 1 to \(CommentModerationRoutes.bulkMax) comment ids")
            }
            self.ids = ids
            reason = try Reason(json).reason
        }
    }

    /// One comment's result in a bulk answer.
    struct BulkResult: Encodable {
        struct Failure: Encodable {
            var code: String
            var message: String
        }
        var id: Int64
        var status: CommentStatus?
        var previousStatus: CommentStatus?
        var error: Failure?
        enum CodingKeys: String, CodingKey {
            case id, status, error
            case previousStatus = "previous_status"
        }

        /// Every key, `null` included: a client reads a missing key as a mistake, not as null.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(status, forKey: .status)
            try container.encode(previousStatus, forKey: .previousStatus)
            try container.encode(error, forKey: .error)
        }
    }

    /// `POST /api/v1/admin/comments/bulk {"ids", "action", "reason"}`: one decision on many
    /// comments, each on its own (one that fails does not stop the rest).
    @Sendable func bulk(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.changingCaller(request, context: context)
        let body = try await JSONBody.decode(BulkRequest.self, from: request, context: context)
        var results: [BulkResult] = []
        var seen = Set<Int64>()
        for id in body.ids where seen.insert(id).inserted {
            do {
                let (_, comment) = try await visibleComment(id: id, caller: caller)
                let after = try await decide(id, action: body.action, caller: caller, reason: body.reason)
                results.append(BulkResult(id: id, status: after?.status, previousStatus: comment.status))
            } catch {
                guard let answer = APIError.from(error), answer.status.code < 500 else { throw error }
                results.append(BulkResult(id: id, error: .init(code: answer.code, message: answer.message)))
            }
        }
        return try JSONBody.response(encoding: ["results": results])
    }

    /// The body of `PATCH /api/v1/admin/comments/{id}`.
    struct EditRequest: JSONRequest {
        var body: String
        init(_ json: JSONFields) throws {
            do {
                body = try FieldRules.text(try json.required("body"))
            } catch CommentsError.invalidField(_, let message) {
                throw CommentsError.invalidField(field: "body", message: message)
            }
        }
    }

    /// `PATCH /api/v1/admin/comments/{id} {"body"}`: a moderator's edit, rendered as readers'
    /// comments are and logged as `edit`.
    @Sendable func edit(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let caller = try await gate.changingCaller(request, context: context)
        let (_, comment) = try await visibleComment(context, caller: caller)
        let body = try await JSONBody.decode(EditRequest.self, from: request, context: context)
        let edited = try await store.moderatorEdit(
            commentID: comment.id, body: body.body, html: Markdown.render(body.body), moderator: caller.moderator, at: clock.nowMillis())
        return try JSONBody.response(encoding: ["comment": try await builder.view(edited)])
    }
}
