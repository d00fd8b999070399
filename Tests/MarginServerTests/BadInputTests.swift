import Comments
import Foundation
import Testing

/// Every kind of bad request gets a clear JSON error with the right 4xx, never a 500, and never
/// touches what is stored.
@Suite struct BadInputTests {
    nonisolated(unsafe) static let valid: [String: Any] = ["site": "default", "uri": "/post/", "text": "fine"]

    func fields(_ changes: [String: Any]) -> [String: Any] {
        Self.valid.merging(changes) { $1 }
    }

    /// A clear error: the status, the JSON shape, a message.
    func expectError(_ response: HTTPResult, _ status: Int, _ code: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == status, "got \(response.status): \(response.text)", sourceLocation: sourceLocation)
        let error = response.json["error"] as? [String: Any]
        #expect(error?["message"] as? String != nil, "no JSON error in \(response.text)", sourceLocation: sourceLocation)
        if let code { #expect(error?["code"] as? String == code, sourceLocation: sourceLocation) }
        #expect(response.header("Content-Type")?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
    }

    @Test func invalidFieldsAre422NamingTheField() async throws {
        try await TestServer.with { server in
            let cases: [([String: Any], String)] = [
                (fields(["text": ""]), "invalid_text"),
                (fields(["text": "   \n\t "]), "invalid_text"),
                (fields(["text": String(repeating: "a", count: 10_001)]), "invalid_text"),
                (fields(["text": 42]), "invalid_text"),
                (["site": "default", "uri": "/post/"], "invalid_text"),
                (fields(["author": String(repeating: "a", count: 101)]), "invalid_author"),
                (fields(["author": ["not", "a", "string"]]), "invalid_author"),
                (fields(["email": "not-an-email"]), "invalid_email"),
                (fields(["email": String(repeating: "a", count: 250) + "@example.org"]), "invalid_email"),
                (fields(["website": "javascript:alert(1)"]), "invalid_website"),
                (fields(["website": "ftp://example.org"]), "invalid_website"),
                (fields(["website": "https://example.org/" + String(repeating: "a", count: 250)]), "invalid_website"),
                (fields(["title": String(repeating: "t", count: 201)]), "invalid_title"),
                (fields(["parent": 999_999]), "invalid_parent"),
                (fields(["parent": "1"]), "invalid_parent"),
                (fields(["parent": 1.5]), "invalid_parent"),
                (fields(["notify": "yes"]), "invalid_notify"),
                (fields(["uri": String(repeating: "/a", count: 2000)]), "invalid_uri"),
                (["uri": "/post/", "text": "no site"], "invalid_site"),
            ]
            for (body, code) in cases {
                expectError(try await server.post(body), 422, code)
            }
            // The boundaries themselves are fine.
            #expect(try await server.post(fields(["text": String(repeating: "가", count: 10_000)])).status == 201)
            #expect(try await server.post(fields(["author": String(repeating: "a", count: 100), "title": String(repeating: "t", count: 200)])).status == 201)
            #expect(try await server.thread().int("total") == 2)
        }
    }

    @Test func parentMustBeVisibleAndInTheSameThread() async throws {
        try await TestServer.with { server in
            let other = try await server.publish("elsewhere", uri: "/other/")
            expectError(try await server.post(fields(["parent": other.id])), 422, "invalid_parent")
            try await server.store.addSite(Site(id: "held", name: "Held", origins: [], moderation: .all))
            let held = try await server.post(["site": "held", "uri": "/p/", "text": "waiting"])
            #expect(held.status == 202)
            #expect(held.json["status"] as? String == "pending")
            let heldID = try #require(held.json.int("id"))
            expectError(try await server.post(["site": "held", "uri": "/p/", "text": "reply", "parent": heldID]), 422, "invalid_parent")
        }
    }

    @Test func malformedBodiesAre400() async throws {
        try await TestServer.with { server in
            let json = [("Content-Type", "application/json")]
            expectError(try await server.client.send("POST", "/api/v1/comments", headers: json, body: Array("{\"site\": ".utf8)), 400, "malformed_json")
            expectError(try await server.client.send("POST", "/api/v1/comments", headers: json, body: Array("not json".utf8)), 400, "malformed_json")
            expectError(try await server.client.send("POST", "/api/v1/comments", headers: json, body: Array("[1, 2]".utf8)), 400, "malformed_json")
            expectError(try await server.client.send("POST", "/api/v1/comments", headers: json, body: []), 400, "malformed_json")
            var invalidUTF8 = Array(#"{"site":"default","uri":"/post/","text":"bad "#.utf8)
            invalidUTF8 += [0xC3, 0x28, 0xFF]
            invalidUTF8 += Array(#""}"#.utf8)
            expectError(try await server.client.send("POST", "/api/v1/comments", headers: json, body: invalidUTF8), 400, "invalid_utf8")
        }
    }

    @Test func writesMustBeJSON() async throws {
        try await TestServer.with { server in
            let body = Array(#"{"site":"default","uri":"/post/","text":"x"}"#.utf8)
            for contentType in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp",
                                "application/jso", "application/json x", "x application/json", ";application/json"] {
                expectError(try await server.client.send("POST", "/api/v1/comments", headers: [("Content-Type", contentType)], body: body), 415, "unsupported_media_type")
            }
            expectError(try await server.client.send("POST", "/api/v1/comments", body: body), 415)
            let accepted = ["application/json; charset=utf-8", "Application/JSON", " application/json\t", "APPLICATION/json ;charset=utf-8"]
            for (index, contentType) in accepted.enumerated() {
                let body = Array(#"{"site":"default","uri":"/post/","text":"comment number \#(index)"}"#.utf8)
                #expect(try await server.client.send("POST", "/api/v1/comments", headers: [("Content-Type", contentType)], body: body).status == 201,
                        "\(contentType)")
            }
        }
    }

    @Test func bodiesOver64KiBAre413() async throws {
        try await TestServer.with { server in
            let big = Array(#"{"site":"default","uri":"/post/","text":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 70_000) + Array(#""}"#.utf8)
            expectError(try await server.client.send("POST", "/api/v1/comments", headers: [("Content-Type", "application/json")], body: big), 413, "body_too_large")
            // A lying Content-Length does not get around the limit either.
            let chunked = try await server.client.send(
                "POST", "/api/v1/comments", headers: [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")], body: big)
            expectError(chunked, 413)
            #expect(try await server.thread().comments.isEmpty)
        }
    }

    @Test func foreignOriginsAre403() async throws {
        try await TestServer.with { server in
            expectError(try await server.post(Self.valid, headers: [("Origin", "https://evil.example")]), 403, "origin_not_allowed")
            expectError(try await server.post(Self.valid, headers: [("Origin", "null")]), 403, "origin_not_allowed")
            expectError(try await server.post(Self.valid, headers: [("Origin", "http://localhost.evil.example:4000")]), 403)
            #expect(try await server.post(fields(["text": "from localhost"]), headers: [("Origin", "http://localhost:4000")]).status == 201)
            #expect(try await server.post(fields(["text": "from 127.0.0.1"]), headers: [("Origin", "http://127.0.0.1:8080")]).status == 201)
            // Edits and votes check the comment's own site.
            let mine = try await server.publish("mine")
            let edit = try await server.client.postJSON(
                "/api/v1/comments/\(mine.id)", ["text": "changed"], method: "PATCH",
                headers: [("Authorization", "Bearer \(mine.token)"), ("Origin", "https://evil.example")])
            expectError(edit, 403, "origin_not_allowed")
            expectError(try await server.client.postJSON("/api/v1/comments/\(mine.id)/vote", ["value": 1], headers: [("Origin", "https://evil.example")]), 403)
        }
    }

    @Test func unknownSitesAndRoutesAre404() async throws {
        try await TestServer.with { server in
            expectError(try await server.post(fields(["site": "no-such-site"])), 404, "site_not_found")
            expectError(try await server.client.get("/api/v1/nothing-here"), 404, "not_found")
            expectError(try await server.client.get("/api/v1/config?site=ghost"), 404, "site_not_found")
            expectError(try await server.client.postJSON("/api/v1/comments/12345/vote", ["value": 1]), 404, "comment_not_found")
            expectError(try await server.client.postJSON("/api/v1/comments/abc/vote", ["value": 1]), 404)
        }
    }

    @Test func noBadInputEverGives500() async throws {
        try await TestServer.with { server in
            _ = try await server.publish("keep me")
            let json = [("Content-Type", "application/json")]
            let bodies: [[UInt8]] = [
                Array("{}".utf8), Array("null".utf8), Array("\"string\"".utf8), Array("{\"text\": null}".utf8),
                Array("{\"site\": {\"nested\": true}}".utf8), Array(#"{"site":"default","uri":"/post/","text":"\ud800"}"#.utf8),
                Array(#"{"site":"default","uri":"/post/","text":"a","parent":99999999999999999999999}"#.utf8),
                Array(#"{"site":"default","uri":"/post/","text":"\u0000 nul"}"#.utf8),
                [0xEF, 0xBB, 0xBF] + Array(#"{"site":"default"}"#.utf8),
            ]
            for body in bodies {
                for path in ["/api/v1/comments", "/api/v1/counts", "/api/v1/preview", "/api/v1/comments/1/vote"] {
                    let response = try await server.client.send("POST", path, headers: json, body: body)
                    #expect(response.status < 500, "\(path) \(String(decoding: body, as: UTF8.self)) → \(response.status) \(response.text)")
                }
            }
            for path in ["/api/v1/comments?site=default&uri=%ZZ", "/api/v1/comments?site=&uri=", "/api/v1/counts?site=default",
                         "/api/v1/feed.atom?site=default&uri=%00", "/api/v1/comments?site=default&uri=/post/&limit=99999999999999999999"] {
                #expect(try await server.client.get(path).status < 500, "\(path)")
            }
            #expect(try await server.thread().comments.count >= 1)
        }
    }

    /// Found by scripts/fuzz-api: an edit or delete without a token was answered 403, after the
    /// Origin check, instead of 401 with a challenge; a missing credential is now refused first.
    @Test func aMissingEditTokenIs401WithAChallengeBeforeTheOriginCheck() async throws {
        try await TestServer.with { server in
            let mine = try await server.publish("mine")
            for method in ["PATCH", "DELETE"] {
                for origin in [[], [("Origin", "")], [("Origin", "https://evil.example")]] {
                    let response = try await server.client.send(
                        method, "/api/v1/comments/\(mine.id)", headers: [("Content-Type", "application/json")] + origin,
                        body: Array(#"{"text":"hijack"}"#.utf8))
                    expectError(response, 401, "invalid_edit_token")
                    #expect(response.header("WWW-Authenticate") == "Bearer")
                }
                expectError(try await server.client.send(method, "/api/v1/comments/\(mine.id)", headers: [("Authorization", "Bearer ")]), 401)
            }
            #expect(try await server.thread().comments.first?["html"] as? String == "<p>mine</p>")
        }
    }

    /// Found by scripts/fuzz-api: a path the server has, asked with a method it does not take,
    /// was 404 as if the path did not exist; it is 405 with `Allow` (RFC 9110).
    @Test func anUndeclaredMethodIs405ListingTheAllowedOnes() async throws {
        try await TestServer.with { server in
            for (method, path, allow) in [("PUT", "/api/v1/comments", "GET, POST"), ("TRACE", "/healthz", "GET"),
                                          ("DELETE", "/api/v1/config", "GET"), ("GET", "/api/v1/comments/1/vote", "POST"),
                                          ("PATCH", "/moderate/1/approve", "GET, POST"), ("POST", "/embed.js", "GET")] {
                let response = try await server.client.send(method, path)
                expectError(response, 405, "method_not_allowed")
                #expect(response.header("Allow") == allow, "\(method) \(path)")
            }
            expectError(try await server.client.send("PUT", "/api/v1/no-such-thing"), 404, "not_found")
        }
    }

    /// Found by scripts/fuzz-api: once any counts were cached, a counts request naming no page
    /// answered 200 `{}` for any site, even an empty or unknown one.
    @Test func aCountsRequestForNoPagesStillNeedsARealSite() async throws {
        try await TestServer.with { server in
            _ = try await server.publish("counted", uri: "/a/")
            for _ in 0..<2 { #expect(try await server.client.get("/api/v1/counts?site=default&uri=/a/").status == 200) }
            expectError(try await server.client.get("/api/v1/counts?site="), 422, "invalid_site")
            expectError(try await server.client.get("/api/v1/counts?site=ghost"), 404, "site_not_found")
            expectError(try await server.client.postJSON("/api/v1/counts", ["site": "", "uris": [String]()]), 422, "invalid_site")
            expectError(try await server.client.postJSON("/api/v1/counts", ["site": "ghost", "uris": [String]()]), 404, "site_not_found")
            let none = try await server.client.get("/api/v1/counts?site=default")
            #expect(none.status == 200)
            #expect(none.json["counts"] as? [String: Any] != nil && (none.json["counts"] as? [String: Any])?.isEmpty == true)
        }
    }
}
