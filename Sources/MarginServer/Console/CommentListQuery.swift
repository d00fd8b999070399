import Comments
import Foundation
import Hummingbird
import HummingbirdCore

/// The query string of `GET /api/v1/admin/comments`, checked: a bad value is a 422 naming it,
/// another site's id a 404.
struct CommentListQuery {
    var storeQuery: CommentQuery

    init(_ parameters: FlatDictionary<Substring, Substring>, caller: ConsoleCaller) throws {
        func value(_ key: String) -> String? {
            parameters[Substring(key)].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        }
        // A number or a cursor given empty is a mistake, not "the default".
        for key in ["thread", "cursor", "limit"] where parameters[Substring(key)]?.isEmpty == true {
            throw CommentsError.invalidField(field: key, message: "must not be empty")
        }
        var query = CommentQuery(siteIDs: caller.role.siteIDs)
        if let site = value("site") {
            try caller.requireSite(site)
            query.siteIDs = [site]
        }
        switch value("status") {
        case nil, "all": break
        case let text?:
            guard let status = CommentStatus(rawValue: text) else {
                throw CommentsError.invalidField(field: "status", message: "must be all or \(CommentStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = status
        }
        if let text = value("q") {
            guard text.count <= 200 else { throw CommentsError.invalidField(field: "q", message: "must be at most 200 characters") }
            query.text = text
        }
        query.author = value("author").map { String($0.prefix(200)) }
        query.email = value("email").map { String($0.prefix(320)) }
        if let network = value("network") {
            let address = String(network.split(separator: "/").first ?? "")
            guard let stored = IPAnonymizer.anonymize(address) else {
                throw CommentsError.invalidField(field: "network", message: "must be an IP address or a network such as 203.0.113.0/24")
            }
            query.network = stored
        }
        if let thread = value("thread") {
            guard let id = Int64(thread), id > 0 else { throw CommentsError.invalidField(field: "thread", message: "must be a thread id") }
            query.threadID = id
        }
        switch value("order") {
        case nil, "newest": query.newestFirst = true
        case "oldest": query.newestFirst = false
        default: throw CommentsError.invalidField(field: "order", message: "must be newest or oldest")
        }
        if let cursor = value("cursor") {
            guard let position = Self.position(cursor) else {
                throw CommentsError.invalidField(field: "cursor", message: "must be a next_cursor from an earlier page")
            }
            query.after = position
        }
        if let limit = value("limit") {
            guard let count = Int(limit), (1...CommentModerationRoutes.pageMax).contains(count) else {
                throw CommentsError.invalidField(field: "limit", message: "must be 1 to \(CommentModerationRoutes.pageMax)")
            }
            query.limit = count
        }
        storeQuery = query
    }

    /// The opaque cursor after `comment`: `created_at.id`, base64url.
    static func cursor(of comment: Comment) -> String {
        Base64URL.encode(Array("\(comment.createdAt).\(comment.id)".utf8))
    }

    static func position(_ cursor: String) -> CommentCursor? {
        guard cursor.count <= 64, let bytes = Base64URL.decode(cursor), let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let createdAt = Int64(parts[0]), let id = Int64(parts[1]) else { return nil }
        return CommentCursor(createdAt: createdAt, id: id)
    }
}
