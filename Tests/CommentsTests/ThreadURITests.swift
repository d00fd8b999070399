import Testing
@testable import Comments

/// Thread keys: one page, one thread, however its address was written.
@Suite struct ThreadURITests {
    @Test(arguments: [
        ("/2016/06/18/tensorflow-kr/", "/2016/06/18/tensorflow-kr/"),
        ("https://blog.example.org/post/?utm_source=x#comments", "/post/"),
        ("http://blog.example.org", "/"),
        ("//cdn.example.org/a/b", "/a/b"),
        ("/post", "/post"),
        ("/post/", "/post/"),
        ("post/", "/post/"),
        ("", "/"),
        ("/%7Euser/%41%62c", "/~user/Abc"),
        ("/a%2fb", "/a%2Fb"),
        ("/caf%c3%a9/", "/caf%C3%A9/"),
        ("/café/", "/caf%C3%A9/"),
        ("/한글/", "/%ED%95%9C%EA%B8%80/"),
        ("/a b", "/a%20b"),
        ("/a/./b/../c/", "/a/c/"),
        ("/a/..", "/"),
        ("/100%", "/100%25"),
        ("/%zz", "/%25zz"),
        ("  /padded/  ", "/padded/"),
        ("/a\\b", "/a/b"),
        ("/x<script>", "/x%3Cscript%3E"),
        ("/q?x=1", "/q"),
    ])
    func normalizes(raw: String, expected: String) {
        #expect(ThreadURI.normalize(raw) == expected)
    }

    @Test func equivalentSpellingsShareAKey() {
        let spellings = ["/한글/", "/%ED%95%9C%EA%B8%80/", "/%ed%95%9c%ea%b8%80/", "https://x.org/%ED%95%9C%EA%B8%80/?a#b"]
        #expect(Set(spellings.compactMap(ThreadURI.normalize)).count == 1)
    }

    @Test func trailingSlashIsKeptAsGiven() {
        #expect(ThreadURI.normalize("/post") != ThreadURI.normalize("/post/"))
    }

    /// The shortcut for paths that are canonical already never answers differently from the
    /// full normalisation: 200,000 random addresses over the characters that matter.
    @Test func canonicalShortcutAgreesWithTheFullNormalisation() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("/./..%2e%41?#:@ ab~-_!$&'()*+,;=\t\u{E9}\u{AC00}")
        var shortcuts = 0
        for _ in 0..<200_000 {
            let length = Int.random(in: 1...12, using: &generator)
            let raw = "/" + String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            if ThreadURI.isCanonical(raw) {
                shortcuts += 1
                #expect(ThreadURI.rebuild(raw) == raw, "\(raw.debugDescription)")
            }
            #expect(ThreadURI.normalize(raw) == ThreadURI.rebuild(raw), "\(raw.debugDescription)")
        }
        #expect(shortcuts > 1_000)
        #expect(!ThreadURI.isCanonical("//host/x") && !ThreadURI.isCanonical("/a/./b") && !ThreadURI.isCanonical("/a/%41"))
    }

    @Test func rejectsOverlongPaths() {
        #expect(ThreadURI.normalize("/" + String(repeating: "a", count: 3000)) == nil)
    }
}

/// Field validation rules.
@Suite struct FieldRulesTests {
    @Test func textLimits() throws {
        #expect(throws: CommentsError.self) { try FieldRules.text(nil) }
        #expect(throws: CommentsError.self) { try FieldRules.text(" \n\t ") }
        #expect(try FieldRules.text(String(repeating: "가", count: 10_000)).count == 10_000)
        #expect(try FieldRules.text("  " + String(repeating: "a", count: 10_000) + "\n") .count == 10_003)
        #expect(throws: CommentsError.self) { try FieldRules.text(String(repeating: "a", count: 10_001)) }
    }

    @Test(arguments: ["a@b.co", "first.last+tag@example.org", "user@sub.domain.example", "이름@example.kr"])
    func acceptsEmail(_ email: String) throws {
        #expect(try FieldRules.email(email, required: false) == email)
    }

    @Test(arguments: ["plain", "a@b", "@b.co", "a@.co", "a b@c.co", "a@b..co", "a@@b.co", "a@b.c", "<a@b.co>", ".a@b.co", "a@-b.co"])
    func rejectsEmail(_ email: String) {
        #expect(throws: CommentsError.self) { try FieldRules.email(email, required: false) }
    }

    @Test(arguments: ["https://example.org", "http://example.org/path?q=1#f", "HTTPS://Example.org/"])
    func acceptsWebsite(_ website: String) throws {
        #expect(try FieldRules.website(website) == website)
    }

    @Test(arguments: ["javascript:alert(1)", "ftp://example.org", "example.org", "https://", "http://exa mple.org", "https://a.org/\"onmouseover=x", "data:text/html,x"])
    func rejectsWebsite(_ website: String) {
        #expect(throws: CommentsError.self) { try FieldRules.website(website) }
    }

    @Test func authorLimits() throws {
        #expect(try FieldRules.author("  Ada  ", required: false) == "Ada")
        #expect(try FieldRules.author("", required: false) == nil)
        #expect(throws: CommentsError.self) { try FieldRules.author("", required: true) }
        #expect(try FieldRules.author(String(repeating: "김", count: 100), required: false)?.count == 100)
        #expect(throws: CommentsError.self) { try FieldRules.author(String(repeating: "a", count: 101), required: false) }
    }
}

/// Addresses are reduced before storage.
@Suite struct IPAnonymizerTests {
    @Test(arguments: [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
        ("::ffff:198.51.100.9", "198.51.100.0"),
        ("[2001:db8::1]", "2001:db8:0::"),
        ("::1", "0:0:0::"),
        ("fe80::1%eth0", "fe80:0:0::"),
    ])
    func anonymizes(address: String, expected: String) {
        #expect(IPAnonymizer.anonymize(address) == expected)
    }

    @Test func rejectsNonAddresses() {
        #expect(IPAnonymizer.anonymize("not-an-ip") == nil)
        #expect(IPAnonymizer.anonymize("256.1.1.1") == nil)
    }
}
