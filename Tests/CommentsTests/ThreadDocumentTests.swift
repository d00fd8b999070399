import Foundation
import Testing
@testable import Comments

/// Encoding of a thread as the page receives it.
@Suite struct ThreadDocumentTests {
    func comment(_ id: Int64, parent: Int64? = nil, status: CommentStatus = .approved, at time: Int64? = nil) -> Comment {
        Comment(id: id, threadID: 1, parentID: parent, status: status, author: "a\(id)", email: "secret@example.org",
                body: "b\(id)", html: "<p>b\(id)</p>", createdAt: time ?? id, ip: "203.0.113.0")
    }

    func decode(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func aReplyChainThousandsDeepEncodesWithoutRecursion() throws {
        let depth = 5_000
        let comments = (1...Int64(depth)).map { comment($0, parent: $0 == 1 ? nil : $0 - 1) }
        let bytes = try ThreadDocument.encode(siteID: "s", uri: "/p/", thread: nil, comments: comments, limit: nil, after: nil)
        // JSONSerialization itself recurses, so count the nesting in the bytes instead.
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.components(separatedBy: "\"replies\":[").count - 1 == depth)
        #expect(text.hasSuffix(String(repeating: "]}", count: depth) + "]}"))
        #expect(!text.contains("secret@example.org"))
        #expect(!text.contains("203.0.113"))
    }

    @Test func siblingsAreOldestFirstAndTombstonesCarryNoContent() throws {
        let comments = [
            comment(1, at: 10), comment(2, status: .deleted, at: 20), comment(3, parent: 2, at: 30),
            comment(4, parent: 1, at: 40), comment(5, parent: 1, at: 50),
        ]
        let document = try decode(try ThreadDocument.encode(siteID: "s", uri: "/p/", thread: nil, comments: comments, limit: nil, after: nil))
        let roots = try #require(document["comments"] as? [[String: Any]])
        #expect(roots.map { ($0["id"] as? NSNumber)?.intValue } == [1, 2])
        #expect((roots[0]["replies"] as? [[String: Any]])?.map { ($0["id"] as? NSNumber)?.intValue } == [4, 5])
        #expect(roots[1]["deleted"] as? Bool == true)
        #expect(roots[1]["author"] == nil && roots[1]["html"] == nil)
        #expect((document["total"] as? NSNumber)?.intValue == 4)
    }

    @Test func pagesTheTopLevel() throws {
        let comments = (1...5).flatMap { index -> [Comment] in
            let id = Int64(index * 10)
            return [comment(id, at: id), comment(id + 1, parent: id, at: id + 1)]
        }
        func page(_ limit: Int?, after: Int64?) throws -> (ids: [Int], next: Int?) {
            let document = try decode(try ThreadDocument.encode(siteID: "s", uri: "/p/", thread: nil, comments: comments, limit: limit, after: after))
            let roots = document["comments"] as? [[String: Any]] ?? []
            for root in roots { #expect((root["replies"] as? [Any])?.count == 1) }
            return (roots.compactMap { ($0["id"] as? NSNumber)?.intValue }, (document["next_after"] as? NSNumber)?.intValue)
        }
        #expect(try page(2, after: nil) == ([10, 20], 20))
        #expect(try page(2, after: 20) == ([30, 40], 40))
        #expect(try page(2, after: 40) == ([50], nil))
        #expect(try page(nil, after: nil) == ([10, 20, 30, 40, 50], nil))
        #expect(throws: CommentsError.self) { try page(2, after: 11) }
    }

    @Test func userStringsCannotFormMarkupInTheJSONBytes() throws {
        var evil = comment(1)
        evil.author = "</script><script>alert(1)</script>"
        evil.website = "https://x.org/?a=<b>&c"
        let text = String(decoding: try ThreadDocument.encode(siteID: "s", uri: "/p/", thread: nil, comments: [evil], limit: nil, after: nil), as: UTF8.self)
        #expect(!text.contains("<script>"))
        let document = try decode(Array(text.utf8))
        let root = try #require((document["comments"] as? [[String: Any]])?.first)
        #expect(root["author"] as? String == "</script><script>alert(1)</script>")
        #expect(root["website"] as? String == "https://x.org/?a=<b>&c")
    }
}
