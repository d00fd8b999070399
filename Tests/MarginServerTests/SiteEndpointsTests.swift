import Comments
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Moderation
import TestSupport
import Testing

/// Counts, preview, config, feeds, health, CORS and the default site.
@Suite struct SiteEndpointsTests {
    @Test func countsForManyPagesAtOnce() async throws {
        try await TestServer.with { server in
            _ = try await server.publish("a", uri: "/a/")
            _ = try await server.publish("a2", uri: "/a/")
            _ = try await server.publish("b", uri: "/b/")
            let byQuery = try await server.client.get("/api/v1/counts?site=default&uri=/a/&uri=https://blog.example/b/%3Fx&uri=/none/")
            #expect(byQuery.status == 200)
            let counts = try #require(byQuery.json["counts"] as? [String: Any])
            #expect((counts["/a/"] as? NSNumber)?.intValue == 2)
            #expect((counts["https://blog.example/b/?x"] as? NSNumber)?.intValue == 1)
            #expect((counts["/none/"] as? NSNumber)?.intValue == 0)

            let byBody = try await server.client.postJSON("/api/v1/counts", ["site": "default", "uris": ["/a/", "/b/"]])
            #expect(((byBody.json["counts"] as? [String: Any])?["/b/"] as? NSNumber)?.intValue == 1)
            let tooMany = try await server.client.postJSON("/api/v1/counts", ["site": "default", "uris": (0...100).map { "/p\($0)/" }])
            #expect(tooMany.status == 422)
            let hundred = try await server.client.postJSON("/api/v1/counts", ["site": "default", "uris": (1...100).map { "/p\($0)/" }])
            #expect(hundred.status == 200)
            #expect(try await server.client.postJSON("/api/v1/counts", ["site": "default"]).status == 422)

            // Counts are served from memory until anything is written, here by another process.
            let a = try await server.client.postJSON("/api/v1/counts", ["site": "default", "uris": ["/a/", "/b/"]])
            #expect(((a.json["counts"] as? [String: Any])?["/a/"] as? NSNumber)?.intValue == 2)
            let cliStore = try SQLiteStore(path: server.databasePath)
            let thread = try #require(try await cliStore.visibleComments(siteID: "default", uri: "/a/"))
            _ = try await cliStore.delete(commentID: try #require(thread.1.first?.id))
            let after = try await server.client.postJSON("/api/v1/counts", ["site": "default", "uris": ["/a/", "/b/"]])
            #expect(((after.json["counts"] as? [String: Any])?["/a/"] as? NSNumber)?.intValue == 1)
            #expect(((after.json["counts"] as? [String: Any])?["/b/"] as? NSNumber)?.intValue == 1)
            #expect(try await server.client.postJSON("/api/v1/counts", ["site": "nope", "uris": ["/a/"]]).status == 404)

            // The answer to a body is kept too; the same bytes again after a comment through the
            // API see it.
            let body = Array(#"{"site":"default","uris":["/b/","/a/"]}"#.utf8)
            for expected in [1, 1] {
                let again = try await server.client.send("POST", "/api/v1/counts", headers: [("Content-Type", "application/json")], body: body)
                #expect(((again.json["counts"] as? [String: Any])?["/b/"] as? NSNumber)?.intValue == expected)
            }
            _ = try await server.publish("b2", uri: "/b/")
            let fresh = try await server.client.send("POST", "/api/v1/counts", headers: [("Content-Type", "application/json")], body: body)
            #expect(((fresh.json["counts"] as? [String: Any])?["/b/"] as? NSNumber)?.intValue == 2)
            #expect(((fresh.json["counts"] as? [String: Any])?["/a/"] as? NSNumber)?.intValue == 1)
        }
    }

    @Test func previewRendersWithoutStoring() async throws {
        try await TestServer.with { server in
            let response = try await server.client.postJSON("/api/v1/preview", ["text": "**bold** <script>x</script>"])
            #expect(response.status == 200)
            #expect(response.json["html"] as? String == "<p><strong>bold</strong> &lt;script&gt;x&lt;/script&gt;</p>")
            #expect(try await server.client.postJSON("/api/v1/preview", ["text": ""]).status == 422)
            #expect(try await server.store.commentCount(siteID: "default") == 0)
        }
    }

    @Test func configGivesTheWidgetWhatItNeeds() async throws {
        try await TestServer.with { server in
            let response = try await server.client.get("/api/v1/config?site=default")
            #expect(response.status == 200)
            let config = response.json
            #expect(config["moderation"] as? String == "none")
            #expect(config.int("edit_window_seconds") == 900)
            #expect((config["limits"] as? [String: Any])?["text"] as? Int == 10_000)
            let ts = try #require(config["ts"] as? String)
            let secret = try await server.store.secret(named: FormTimestamp.secretName, make: { [] }, at: 0)
            let signer = FormTimestamp(secret: secret)
            #expect(signer.verify(ts, site: "default") == server.clock.nowMillis())
            #expect(signer.verify(ts, site: "other") == nil)
            #expect(signer.verify(ts.replacingOccurrences(of: "\(server.clock.nowMillis())", with: "1"), site: "default") == nil)
        }
    }

    @Test func gravatarHashesOnlyWhenTheSiteTurnsThemOn() async throws {
        try await TestServer.with { server in
            let withEmail = try await server.post(["site": "default", "uri": "/faces/", "text": "has a face", "email": "  Ada@Example.ORG "])
            #expect(withEmail.status == 201)
            _ = try await server.publish("no email", uri: "/faces/")
            let plain = try await server.client.get("/api/v1/comments?site=default&uri=/faces/")
            #expect(!plain.text.contains("gravatar"), "no hash leaves the server while the site keeps identicons")
            #expect(try await server.client.get("/api/v1/config?site=default").json["avatars"] as? String == "identicon")

            // Turned on by another process (the CLI): no thread changed, yet the next read has hashes.
            var site = try #require(try await server.store.site(id: "default"))
            site.avatars = .gravatar
            try await SQLiteStore(path: server.databasePath).updateSite(site)
            #expect(try await server.client.get("/api/v1/config?site=default").json["avatars"] as? String == "gravatar")
            let faces = try await server.client.get("/api/v1/comments?site=default&uri=/faces/", headers: [("If-None-Match", plain.header("ETag") ?? "")])
            #expect(faces.status == 200, "the old ETag must not match the body with hashes")
            let comments = try #require(faces.json["comments"] as? [[String: Any]])
            // sha256("ada@example.org") by coreutils sha256sum: trimmed and lowercased, as Gravatar expects.
            let expected = "cfe00dde46ef942601ffafb9e2825e802858b460e586b8305b344c1eb826357d"
            #expect(ThreadDocument.gravatarHash("  Ada@Example.ORG ") == expected)
            #expect(comments.first { $0["html"] as? String == "<p>has a face</p>" }?["gravatar"] as? String == expected)
            #expect(comments.first { $0["html"] as? String == "<p>no email</p>" }?["gravatar"] is NSNull)
            #expect(comments.allSatisfy { $0["email"] == nil }, "the address itself is never served")
        }
    }

    @Test func atomFeedsAreValidAndThreaded() async throws {
        try await TestServer.with { server in
            let root = try await server.publish("root *comment*", uri: "/feed/", author: "Ada & <Bob>")
            server.clock.advance(seconds: 5)
            let reply = try await server.publish("a reply", uri: "/feed/", parent: root.id)
            _ = try await server.publish("elsewhere", uri: "/other/")

            let siteFeed = try await server.client.get("/api/v1/feed.atom?site=default")
            #expect(siteFeed.status == 200)
            let parsed = try AtomCheck.parse(siteFeed.body)
            #expect(parsed.entries == 3)
            #expect(parsed.inReplyTo == 1)
            #expect(parsed.hasFeedID && parsed.hasFeedTitle && parsed.hasFeedUpdated)
            #expect(parsed.entriesComplete)
            #expect(parsed.authors.contains("Ada & <Bob>"))

            let threadFeed = try await server.client.get("/api/v1/feed.atom?site=default&uri=/feed/")
            let thread = try AtomCheck.parse(threadFeed.body)
            #expect(thread.entries == 2)
            #expect(thread.inReplyTo == 1)
            #expect(threadFeed.text.contains("comment:\(reply.id)"))
            #expect(try await server.client.get("/api/v1/feed.atom?site=ghost").status == 404)
        }
    }

    @Test func healthAnswersWhenTheDatabaseDoes() async throws {
        try await TestServer.with { server in
            let health = try await server.client.get("/healthz")
            #expect(health.status == 200)
            #expect(health.json["status"] as? String == "ok")
        }
    }

    @Test func theDefaultSiteAllowsLocalhostOnAnyPort() async throws {
        try await TestServer.with { server in
            let site = try #require(try await server.store.site(id: "default"))
            #expect(site.origins == ["http://localhost:*", "http://127.0.0.1:*"])
            let preflight = try await server.client.send("OPTIONS", "/api/v1/comments", headers: [
                ("Origin", "http://localhost:4000"), ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ])
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == "http://localhost:4000")
            #expect(preflight.header("Access-Control-Allow-Methods")?.contains("PATCH") == true)
            let denied = try await server.client.send("OPTIONS", "/api/v1/comments", headers: [("Origin", "https://evil.example")])
            #expect(denied.status == 403)
            #expect(denied.header("Access-Control-Allow-Origin") == nil)
            let read = try await server.client.get("/api/v1/comments?site=default&uri=/", headers: [("Origin", "http://127.0.0.1:3000")])
            #expect(read.header("Access-Control-Allow-Origin") == "http://127.0.0.1:3000")
            let error = try await server.client.get("/api/v1/comments?site=ghost&uri=/", headers: [("Origin", "http://127.0.0.1:3000")])
            #expect(error.status == 404)
            #expect(error.header("Access-Control-Allow-Origin") == "http://127.0.0.1:3000")
        }
    }

    @Test func sitesAreSeparate() async throws {
        try await TestServer.with { server in
            try await server.store.addSite(Site(id: "blog", name: "Blog", origins: ["https://blog.example.org"]))
            _ = try await server.publish("on default", uri: "/same/")
            let onBlog = try await server.post(["site": "blog", "uri": "/same/", "text": "on blog"], headers: [("Origin", "https://blog.example.org")])
            #expect(onBlog.status == 201)
            #expect(try await server.post(["site": "blog", "uri": "/same/", "text": "x"], headers: [("Origin", "http://localhost:4000")]).status == 403)
            #expect(try await server.thread("/same/").comments.count == 1)
            #expect(try await server.thread("/same/", site: "blog").comments.first?["html"] as? String == "<p>on blog</p>")
        }
    }
}

/// Reads an Atom document with FoundationXML and notes what a validator would check.
final class AtomCheck: NSObject, XMLParserDelegate {
    var entries = 0
    var inReplyTo = 0
    var authors: [String] = []
    var hasFeedID = false, hasFeedTitle = false, hasFeedUpdated = false
    var entriesComplete = true
    private var path: [String] = []
    private var text = ""
    private var entryFields: Set<String> = []
    private var failure: (any Error)?

    static func parse(_ bytes: [UInt8]) throws -> AtomCheck {
        let check = AtomCheck()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = true
        parser.delegate = check
        guard parser.parse() else { throw parser.parserError ?? TestFailure("invalid XML") }
        return check
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        path.append(name)
        text = ""
        if name == "entry" && namespaceURI == "http://www.w3.org/2005/Atom" { entries += 1; entryFields = [] }
        if name == "in-reply-to" && namespaceURI == "http://purl.org/syndication/thread/1.0" && attributes["ref"] != nil { inReplyTo += 1 }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        let parent = path.dropLast().last
        if parent == "feed" {
            if name == "id" { hasFeedID = !text.isEmpty }
            if name == "title" { hasFeedTitle = true }
            if name == "updated" { hasFeedUpdated = ISO8601DateFormatter.withFractions.date(from: text) != nil }
        }
        if parent == "entry" { entryFields.insert(name) }
        if name == "name" && path.dropLast().last == "author" && path.count > 2 && path[path.count - 3] == "entry" { authors.append(text) }
        if name == "entry" && !entryFields.isSuperset(of: ["id", "title", "updated", "author", "content", "link"]) { entriesComplete = false }
        path.removeLast()
    }
}

extension ISO8601DateFormatter {
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
