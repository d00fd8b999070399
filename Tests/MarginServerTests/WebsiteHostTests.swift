import Comments
import Foundation
import TestSupport
import Testing

/// A comment's `website` names the host a browser would visit: URLs that read differently to a
/// browser than to a naive parser are refused, and the blocklist sees the browser's host.
@Suite struct WebsiteHostTests {
    @Test func trickyWebsitesAre422InvalidWebsite() async throws {
        // Given the real server
        try await TestServer.with { server in
            // When comments name websites that a browser parses differently from how they look
            let tricky = [
                "http://evil.example\\@good.example",   // a browser reads \ as /: it visits evil.example
                "https://good.example\\.evil.example/",
                "http://evil.example\t@good.example",   // tabs and newlines are skipped by a browser
                "http://evil.example\n@good.example",
                "http://good.example\r/",
                "http://good\u{0}.example/",
                "http://good.example\u{85}/",           // C1 control
                "http://go\u{200B}od.example/",         // zero-width space (a format character)
                "http://good.example\u{202E}/",         // right-to-left override
                "http://evil.example%00.good.example/", // percent-decodes to a NUL in the host
                "http://%zz/",
                "http://999.1.1.1/",                     // an IPv4 address a browser refuses
                "http://[::1/",
                "http:///",
            ]
            for website in tricky {
                let response = try await server.post(["site": "default", "uri": "/post/", "text": "hi", "website": website])
                // Then each is refused by name, and nothing is stored
                #expect(response.status == 422, "\(website.debugDescription): \(response.status) \(response.text)")
                #expect((response.json["error"] as? [String: Any])?["code"] as? String == "invalid_website", "\(website.debugDescription)")
            }
            #expect(try await server.thread().int("total") == 0)
            // And ordinary websites still work
            let ordinary = ["https://ada.example.org/", "http://user@ada.example.org:8080/x?y=1#z", "https://[2001:db8::1]/", "https://bücher.example/"]
            for (index, website) in ordinary.enumerated() {
                let response = try await server.post(["site": "default", "uri": "/post/", "text": "comment number \(index)", "website": website])
                #expect(response.status == 201, "\(website): \(response.text)")
            }
        }
    }

    @Test func theBlocklistSeesTheHostABrowserVisits() async throws {
        // Given a domain block on evil.example
        try await TestServer.with { server in
            try await server.store.addBlock(BlockEntry(kind: .domain, value: "evil.example", createdAt: 1))
            // When websites spell that host in ways a browser folds back to it
            for website in ["http://evil%2Eexample/", "http://ＥＶＩＬ.example/", "http://evil。example/", "http://EVIL.example./",
                            "http://good.example@evil.example/", "http://www.evil.example/"] {
                let response = try await server.post(["site": "default", "uri": "/post/", "text": "hello there", "website": website])
                // Then each is screened as the blocked domain (not published)
                #expect(response.status == 202, "\(website): \(response.status) \(response.text)")
            }
            #expect(try await server.thread().int("total") == 0)
        }
    }

    @Test func hostsAreParsedTheWayABrowserParsesThem() {
        // Given URLs whose host a naive split gets wrong, when parsed, then the browser's host
        #expect(URLHost.of("http://evil.example\\@good.example") == "evil.example")
        #expect(URLHost.of("http://evil.example\t\n@good.example/") == "good.example")
        #expect(URLHost.of("https://user:pw@Shop.Example.COM:8080/x?y") == "shop.example.com")
        #expect(URLHost.of("http://0x7f.1/") == "127.0.0.1")
        #expect(URLHost.of("http://2130706433/") == "127.0.0.1")
        #expect(URLHost.of("http://[2001:DB8::1]:80/") == "[2001:db8::1]")
        #expect(URLHost.of("http:\\\\evil.example/") == "evil.example")
        #expect(URLHost.of("mailto:x@y.example") == nil)
        #expect(URLHost.of("http://a b.example/") == nil)
    }
}

/// Duplicate and blocklist matching over HTTP fold text first, and the form timestamp's maximum
/// age is a server setting.
@Suite struct FoldedScreeningTests {
    @Test func disguisedDuplicatesAndBlockedWordsAreScreened() async throws {
        try await TestServer.with { server in
            // Given a word block on viagra and a comment already posted
            try await server.store.addBlock(BlockEntry(kind: .word, value: "viagra", createdAt: 1))
            #expect(try await server.post(["site": "default", "uri": "/post/", "text": "Great article about caching"]).status == 201)
            // When the same text comes again in full-width capitals, or the blocked word with a zero-width space
            let again = try await server.post(["site": "default", "uri": "/post/", "text": "ＧＲＥＡＴ article about\u{200B} caching"])
            let blocked = try await server.post(["site": "default", "uri": "/post/", "text": "cheap vi\u{200B}agra and ＶＩＡＧＲＡ"])
            // Then neither is published
            #expect(again.status == 202, "\(again.text)")
            #expect(blocked.status == 202, "\(blocked.text)")
            #expect(try await server.thread().int("total") == 1)
        }
    }

    @Test func aStaleFormTimestampEarnsNothing() async throws {
        // Given a server whose posts are held from 1.5 points, with form timestamps counting 2 h
        // (`--form-max-age-hours 2`, `MARGIN_FORM_MAX_AGE_HOURS`)
        try await TestServer.with(configure: {
            $0.spam.holdScore = 1.5
            $0.spam.spamScore = 9
            $0.spam.formMaxAgeHours = 2
        }) { server in
            let config = try await server.client.get("/api/v1/config?site=default")
            let ts = try #require(config.json["ts"] as? String)
            // When one form is used 1 h later, then it counts (published)
            server.clock.advance(seconds: 3600)
            #expect(try await server.post(["site": "default", "uri": "/post/", "text": "typed slowly", "ts": ts]).status == 201)
            // When the same form is used 3 h after it was shown, then it earns nothing: held like no timestamp
            server.clock.advance(seconds: 2 * 3600)
            let late = try await server.post(["site": "default", "uri": "/post/", "text": "posted much later", "ts": ts])
            #expect(late.status == 202, "\(late.text)")
        }
    }

    @Test func theMaximumAgeIsASettingOfTheRealServer() async throws {
        // Given `margin config show` with the flag, then it reports the value the server would run with
        let shown = try await CLI.run(["config", "show", "--form-max-age-hours", "48"])
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("form_max_age_hours = 48    # --form-max-age-hours"), "\(shown.stdout)")
        // Given `margin serve` with a maximum below an hour, then it refuses to start, naming the setting
        let refused = try await CLI.run(["serve", "--form-max-age-hours", "0", "--port", "0", "--db", "/nonexistent/x.sqlite"], timeout: .seconds(20))
        #expect(refused.status == 1)
    }
}

/// The admin API's Margin import does not trust the uploaded file either.
@Suite struct AdminMarginImportTrustTests {
    /// The Margin export of a server holding one published comment; its id and edit token.
    func exportOfOneComment() async throws -> (lines: [[String: Any]], id: Int64, token: String) {
        let (text, id, token) = try await TestServer.with { source in
            let posted = try await source.publish("A comment worth keeping")
            let (_, secret) = try await source.store.createAdminToken(name: "t", random: SystemRandom(), at: source.clock.nowMillis())
            let export = try await source.client.get("/api/v1/admin/export?format=margin", headers: [("Authorization", "Bearer \(secret)")])
            return (export.text, posted.id, posted.token)
        }
        let lines = try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        return (lines, id, token)
    }

    func body(_ lines: [[String: Any]]) throws -> [UInt8] {
        var text = ""
        for line in lines { text += String(decoding: try JSONSerialization.data(withJSONObject: line), as: UTF8.self) + "\n" }
        return Array(text.utf8)
    }

    @Test func plantedMarkupAndEditKeysGainNothing() async throws {
        // Given a fresh export whose comment's html was replaced by a script payload
        var (lines, id, token) = try await exportOfOneComment()
        let index = try #require(lines.firstIndex { $0["type"] as? String == "comment" })
        lines[index]["html"] = "<img src=x onerror=alert(document.domain)>"
        try await TestServer.with { target in
            let (_, secret) = try await target.store.createAdminToken(name: "t", random: SystemRandom(), at: target.clock.nowMillis())
            // When it is uploaded to another server, still inside the comment's edit window
            let imported = try await target.client.send("POST", "/api/v1/admin/import?format=margin",
                                                         headers: [("Authorization", "Bearer \(secret)")], body: try body(lines))
            #expect(imported.status == 200, "\(imported.text)")
            // Then the thread shows no markup that can run
            let thread = try await target.thread()
            let html = try #require((thread["comments"] as? [[String: Any]])?.first?["html"] as? String)
            #expect(!html.contains("<img") && !html.contains("onerror"), "\(html)")
            // And the edit token of the original server does not edit the imported comment
            let edit = try await target.client.postJSON("/api/v1/comments/\(id)", ["text": "taken over"], method: "PATCH",
                                                        headers: [("Authorization", "Bearer \(token)")])
            #expect(edit.status != 200, "\(edit.text)")
            #expect(try await target.store.comment(id: id)?.body == "A comment worth keeping")
        }
    }

    @Test func aCommentFromTheFutureIsRefusedNamingLineAndField() async throws {
        // Given an export whose comment claims to be written tomorrow
        var (lines, _, _) = try await exportOfOneComment()
        let index = try #require(lines.firstIndex { $0["type"] as? String == "comment" })
        lines[index]["created_at"] = NSNumber(value: TestClock().nowMillis() + 86_400_000)
        try await TestServer.with { target in
            let (_, secret) = try await target.store.createAdminToken(name: "t", random: SystemRandom(), at: target.clock.nowMillis())
            // When it is uploaded
            let refused = try await target.client.send("POST", "/api/v1/admin/import?format=margin",
                                                       headers: [("Authorization", "Bearer \(secret)")], body: try body(lines))
            // Then 422 malformed_import names the line and the field, and nothing is imported
            #expect(refused.status == 422)
            #expect(refused.errorCode == "malformed_import")
            let message = (refused.json["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains("Line \(index + 1)") && message.contains("'created_at' lies in the future"), "\(message)")
            #expect(try await target.thread().int("total") == 0)
        }
    }
}
