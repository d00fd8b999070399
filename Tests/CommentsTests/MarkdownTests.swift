import Foundation
import Testing

@testable import Comments

/// Exact-output tests for every construct of the comment markdown subset.
@Suite struct MarkdownRenderingTests {
    /// Renders and compares Unicode scalars, because `String ==` treats canonically equivalent text as equal.
    private func expectRender(_ source: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let html = Markdown.render(source)
        #expect(Array(html.unicodeScalars) == Array(expected.unicodeScalars),
                "render(\(source.debugDescription)) = \(html.debugDescription)", sourceLocation: sourceLocation)
    }

    @Test func paragraphsAndLineBreaks() {
        expectRender("", "")
        expectRender("   \n\n  ", "")
        expectRender("hello", "<p>hello</p>")
        expectRender("a\nb", "<p>a<br>\nb</p>")
        expectRender("a\r\nb\rc", "<p>a<br>\nb<br>\nc</p>")
        expectRender("a\n\nb", "<p>a</p>\n<p>b</p>")
        expectRender("  a  \n   b", "<p>a<br>\nb</p>")
        expectRender("a\\\nb", "<p>a<br>\nb</p>")
        expectRender("a\\", "<p>a\\</p>")
        expectRender("# not a heading", "<p># not a heading</p>")
        expectRender("***", "<p>***</p>")
        expectRender("* * *", "<p>* * *</p>")
    }

    @Test func fencedCode() {
        expectRender("```\nlet x = 1 < 2 && y\n```", "<pre><code>let x = 1 &lt; 2 &amp;&amp; y\n</code></pre>")
        expectRender("```swift\nlet x = 1\n```", "<pre><code class=\"language-swift\">let x = 1\n</code></pre>")
        expectRender("~~~c++ extra words\nx\n~~~", "<pre><code class=\"language-c++\">x\n</code></pre>")
        expectRender("```\"><script>\nx\n```", "<pre><code>x\n</code></pre>")
        expectRender("```\nunclosed *not em*", "<pre><code>unclosed *not em*\n</code></pre>")
        expectRender("````\n```\n````", "<pre><code>```\n</code></pre>")
        expectRender("```\n\tgo tab\n```", "<pre><code>\tgo tab\n</code></pre>")
        expectRender("  ```\n  indented\n    more\n  ```", "<pre><code>indented\n  more\n</code></pre>")
        expectRender("``` a`b", "<p>``` a`b</p>")
    }

    @Test func indentedCode() {
        expectRender("    code <b>\n      more", "<pre><code>code &lt;b&gt;\n  more\n</code></pre>")
        expectRender("\tcode", "<pre><code>code\n</code></pre>")
        expectRender("para\n    not code", "<p>para<br>\nnot code</p>")
        expectRender("    a\n\n    b\n\nc", "<pre><code>a\n\nb\n</code></pre>\n<p>c</p>")
    }

    @Test func blockQuotes() {
        expectRender("> quote", "<blockquote>\n<p>quote</p>\n</blockquote>")
        expectRender(">quote\n> more", "<blockquote>\n<p>quote<br>\nmore</p>\n</blockquote>")
        expectRender("> a\nlazy", "<blockquote>\n<p>a<br>\nlazy</p>\n</blockquote>")
        expectRender("> a\n\nb", "<blockquote>\n<p>a</p>\n</blockquote>\n<p>b</p>")
        expectRender("> > nested", "<blockquote>\n<blockquote>\n<p>nested</p>\n</blockquote>\n</blockquote>")
        expectRender(">", "<blockquote>\n</blockquote>")
        expectRender("> - item", "<blockquote>\n<ul>\n<li>item</li>\n</ul>\n</blockquote>")
        expectRender("> ```\n> code\n> ```", "<blockquote>\n<pre><code>code\n</code></pre>\n</blockquote>")
    }

    @Test func lists() {
        expectRender("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>")
        expectRender("* a\n+ b", "<ul>\n<li>a</li>\n</ul>\n<ul>\n<li>b</li>\n</ul>")
        expectRender("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>")
        expectRender("3) a\n4) b", "<ol start=\"3\">\n<li>a</li>\n<li>b</li>\n</ol>")
        expectRender("007. x", "<ol start=\"7\">\n<li>x</li>\n</ol>")
        expectRender("1234567890. x", "<p>1234567890. x</p>")
        expectRender("- a\n  - b\n    - c",
                     "<ul>\n<li>a\n<ul>\n<li>b\n<ul>\n<li>c</li>\n</ul>\n</li>\n</ul>\n</li>\n</ul>")
        expectRender("- a\n\n- b", "<ul>\n<li>\n<p>a</p>\n</li>\n<li>\n<p>b</p>\n</li>\n</ul>")
        expectRender("- a\n\n  b", "<ul>\n<li>\n<p>a</p>\n<p>b</p>\n</li>\n</ul>")
        expectRender("- a\nlazy", "<ul>\n<li>a<br>\nlazy</li>\n</ul>")
        expectRender("- a\n\nafter", "<ul>\n<li>a</li>\n</ul>\n<p>after</p>")
        expectRender("-", "<ul>\n<li></li>\n</ul>")
        expectRender("-not a list", "<p>-not a list</p>")
        expectRender("para\n2. not a list", "<p>para<br>\n2. not a list</p>")
        expectRender("para\n- list", "<p>para</p>\n<ul>\n<li>list</li>\n</ul>")
        expectRender("- ```\n  code\n  ```", "<ul>\n<li>\n<pre><code>code\n</code></pre>\n</li>\n</ul>")
        expectRender("-\tx", "<ul>\n<li>x</li>\n</ul>")
    }

    @Test func lazyContinuationAndLooseness() {
        expectRender("> - a\nb", "<blockquote>\n<ul>\n<li>a<br>\nb</li>\n</ul>\n</blockquote>")
        expectRender("> + (foo\n    1. bar", "<blockquote>\n<ul>\n<li>(foo<br>\n1. bar</li>\n</ul>\n</blockquote>")
        expectRender("- ```\nfoo", "<ul>\n<li>\n<pre><code></code></pre>\n</li>\n</ul>\n<p>foo</p>")
        expectRender("2) > \nx", "<ol start=\"2\">\n<li>\n<blockquote>\n</blockquote>\n</li>\n</ol>\n<p>x</p>")
        expectRender("> a\n> ```\n> code\nnot lazy",
                     "<blockquote>\n<p>a</p>\n<pre><code>code\n</code></pre>\n</blockquote>\n<p>not lazy</p>")
        expectRender("a\n> q\nb", "<p>a</p>\n<blockquote>\n<p>q<br>\nb</p>\n</blockquote>")
        expectRender("- a\n> q", "<ul>\n<li>a</li>\n</ul>\n<blockquote>\n<p>q</p>\n</blockquote>")
        expectRender("-\n  foo", "<ul>\n<li>foo</li>\n</ul>")
        expectRender("-\n\n  foo", "<ul>\n<li></li>\n</ul>\n<p>foo</p>")
        expectRender("- a\n    - b", "<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul>\n</li>\n</ul>")
        expectRender("* a\n\n\n* b", "<ul>\n<li>\n<p>a</p>\n</li>\n<li>\n<p>b</p>\n</li>\n</ul>")
        expectRender("- a\n\n  ```\n  x\n\n  y\n  ```\n- b",
                     "<ul>\n<li>\n<p>a</p>\n<pre><code>x\n\ny\n</code></pre>\n</li>\n<li>\n<p>b</p>\n</li>\n</ul>")
        expectRender("- a\n  ```\n  x\n\n  y\n  ```\n- b",
                     "<ul>\n<li>a\n<pre><code>x\n\ny\n</code></pre>\n</li>\n<li>b</li>\n</ul>")
        expectRender("-   \tcode", "<ul>\n<li>\n<pre><code>  code\n</code></pre>\n</li>\n</ul>")
    }

    @Test func hardBreaks() {
        expectRender("a\\  \nb", "<p>a\\<br>\nb</p>")
        expectRender("a   \\\nb", "<p>a<br>\nb</p>")
        expectRender("a\t\nb", "<p>a<br>\nb</p>")
        expectRender("*a\nb*", "<p><em>a<br>\nb</em></p>")
        expectRender("[a\nb](http://x.y)", "<p><a href=\"http://x.y\" rel=\"nofollow ugc noopener\">a<br>\nb</a></p>")
    }

    @Test func codeSpans() {
        expectRender("`a<b>&\"'`", "<p><code>a&lt;b&gt;&amp;&quot;&#39;</code></p>")
        expectRender("`` a`b ``", "<p><code>a`b</code></p>")
        expectRender("` `` `", "<p><code>``</code></p>")
        expectRender("`*not em* [x](y)`", "<p><code>*not em* [x](y)</code></p>")
        expectRender("`a\nb`", "<p><code>a b</code></p>")
        expectRender("``unclosed`", "<p>``unclosed`</p>")
        expectRender("\\`not code`", "<p>`not code`</p>")
    }

    @Test func emphasis() {
        expectRender("*em* _em_", "<p><em>em</em> <em>em</em></p>")
        expectRender("**strong** __strong__", "<p><strong>strong</strong> <strong>strong</strong></p>")
        expectRender("***both***", "<p><em><strong>both</strong></em></p>")
        expectRender("*a **b** c*", "<p><em>a <strong>b</strong> c</em></p>")
        expectRender("snake_case_name", "<p>snake_case_name</p>")
        expectRender("2 * 3 * 4", "<p>2 * 3 * 4</p>")
        expectRender("*unclosed", "<p>*unclosed</p>")
        expectRender("*foo**bar*", "<p><em>foo**bar</em></p>")
        expectRender("**한국어** *中文*", "<p><strong>한국어</strong> <em>中文</em></p>")
        expectRender("*[link](http://a)*", "<p><em><a href=\"http://a\" rel=\"nofollow ugc noopener\">link</a></em></p>")
    }

    @Test func links() {
        expectRender("[text](http://example.com)",
                     "<p><a href=\"http://example.com\" rel=\"nofollow ugc noopener\">text</a></p>")
        expectRender("[t](https://e.com/a?b=1&c=2 \"Ti\\\"tle <x>\")",
                     "<p><a href=\"https://e.com/a?b=1&amp;c=2\" title=\"Ti&quot;tle &lt;x&gt;\" "
                        + "rel=\"nofollow ugc noopener\">t</a></p>")
        expectRender("[t](/relative#frag)", "<p><a href=\"/relative#frag\" rel=\"nofollow ugc noopener\">t</a></p>")
        expectRender("[t](page.html)", "<p><a href=\"page.html\" rel=\"nofollow ugc noopener\">t</a></p>")
        expectRender("[t](http://x.y/?a=1&amp;b=%41)",
                     "<p><a href=\"http://x.y/?a=1&amp;amp;b=%41\" rel=\"nofollow ugc noopener\">t</a></p>")
        expectRender("[mail](MAILTO:a@b.c)", "<p><a href=\"MAILTO:a@b.c\" rel=\"nofollow ugc noopener\">mail</a></p>")
        expectRender("[t](<with space>)", "<p><a href=\"with%20space\" rel=\"nofollow ugc noopener\">t</a></p>")
        expectRender("[t](http://a/(b))", "<p><a href=\"http://a/(b)\" rel=\"nofollow ugc noopener\">t</a></p>")
        expectRender("[*em* `code`](http://a)",
                     "<p><a href=\"http://a\" rel=\"nofollow ugc noopener\"><em>em</em> <code>code</code></a></p>")
        expectRender("[a [b](http://b)](http://a)",
                     "<p>[a <a href=\"http://b\" rel=\"nofollow ugc noopener\">b</a>](http://a)</p>")
        expectRender("[not a link]", "<p>[not a link]</p>")
        expectRender("[x](http://a \"unterminated)", "<p>[x](http://a &quot;unterminated)</p>")
        expectRender("[<https://a.b>](http://c)",
                     "<p><a href=\"http://c\" rel=\"nofollow ugc noopener\">https://a.b</a></p>")
        expectRender("[https://a.b](http://c)",
                     "<p><a href=\"http://c\" rel=\"nofollow ugc noopener\">https://a.b</a></p>")
    }

    @Test(arguments: [
        "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
        "vbscript:msgbox(1)", "data:text/html,<script>alert(1)</script>", "DATA:text/html;base64,PHNjcmlwdD4=",
        "&#106;avascript:alert(1)", "javascript&colon;alert(1)", "file:///etc/passwd", "ftp://x", "http:no-slashes",
        "x:y", "\u{1}javascript:alert(1)", "http://a/javascript:alert(1)", "", "%6Aavascript:alert(1)",
        "java&#x09;script:alert(1)", "&#x6A;&#x61;vascript:alert(1)", "javascript%3Aalert(1)", "https:\\\\evil.com",
    ])
    func disallowedLinksRenderAsText(_ url: String) {
        let html = Markdown.render("[click](<\(url)>)")
        #expect(!html.contains("<a"), "\(url.debugDescription) → \(html)")
        #expect(html.contains("click"))
    }

    @Test func autolinks() {
        expectRender("<https://a.b/c?d=1&e=2>",
                     "<p><a href=\"https://a.b/c?d=1&amp;e=2\" rel=\"nofollow ugc noopener\">https://a.b/c?d=1&amp;e=2</a></p>")
        expectRender("<mailto:me@x.org>", "<p><a href=\"mailto:me@x.org\" rel=\"nofollow ugc noopener\">mailto:me@x.org</a></p>")
        expectRender("<me@x.org>", "<p><a href=\"mailto:me@x.org\" rel=\"nofollow ugc noopener\">me@x.org</a></p>")
        expectRender("<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>")
        expectRender("<ftp://x.org>", "<p>&lt;ftp://x.org&gt;</p>")
        expectRender("<not a link>", "<p>&lt;not a link&gt;</p>")
    }

    /// The markup every rendered link gets.
    private func anchor(_ href: String, _ text: String? = nil) -> String {
        "<a href=\"\(href)\" rel=\"nofollow ugc noopener\">\(text ?? href)</a>"
    }

    @Test func bareURLs() {
        expectRender("see https://example.com/a_b.", "<p>see \(anchor("https://example.com/a_b")).</p>")
        expectRender("(http://x.com/a(b)c)", "<p>(\(anchor("http://x.com/a(b)c")))</p>")
        expectRender("https://x.com/?q=1,2;!", "<p>\(anchor("https://x.com/?q=1,2"));!</p>")
        expectRender("*https://x.com*", "<p><em>\(anchor("https://x.com"))</em></p>")
        expectRender("https://x.com/a**b**", "<p>\(anchor("https://x.com/a"))<strong>b</strong></p>")
        expectRender("https://x.com/a_b_c_", "<p>\(anchor("https://x.com/a_b_c"))_</p>")
        expectRender("xhttps://x.com", "<p>xhttps://x.com</p>")
        expectRender("https://", "<p>https://</p>")
        expectRender("http://localhost:8080 http://a. x", "<p>http://localhost:8080 http://a. x</p>")
        expectRender("`https://x.com`", "<p><code>https://x.com</code></p>")
        let quoted = "https://x.com/&quot;onmouseover=&quot;alert(1)"
        expectRender("https://x.com/\"onmouseover=\"alert(1)", "<p>\(anchor(quoted))</p>")
    }

    @Test func escapesAndRawHTML() {
        expectRender("\\*not em\\* \\[x\\] \\\\ \\a", "<p>*not em* [x] \\ \\a</p>")
        expectRender("<b onclick=\"x\">bold</b>", "<p>&lt;b onclick=&quot;x&quot;&gt;bold&lt;/b&gt;</p>")
        expectRender("<script>alert('x')</script>", "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>")
        expectRender("&copy; &amp; &#60;", "<p>&amp;copy; &amp;amp; &amp;#60;</p>")
        expectRender("<!-- c -->", "<p>&lt;!-- c --&gt;</p>")
        expectRender("a\u{0}b", "<p>a\u{FFFD}b</p>")
    }

    @Test func escapeHTMLFunction() {
        #expect(escapeHTML("plain 한국어") == "plain 한국어")
        #expect(escapeHTML("<a href=\"x\" title='y'>&</a>") == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
    }

    @Test(arguments: [
        "안녕하세요, 반갑습니다!", "你好，世界", "Привет, мир", "مرحبا بالعالم", "שלום", "e\u{301}",
        "👩🏽‍💻 🇰🇷", "नमस्ते दुनिया", "こんにちは世界", "👨‍👩‍👧‍👦 family", "Ἀθῆναι", "a\u{200D}b\u{FE0F}",
    ])
    func textRoundTrips(_ text: String) {
        expectRender(text, "<p>" + text + "</p>")
    }

    @Test func unicodeAroundSyntax() {
        expectRender("*👩🏽‍💻*", "<p><em>👩🏽‍💻</em></p>")
        expectRender("> שלום\n> עולם", "<blockquote>\n<p>שלום<br>\nעולם</p>\n</blockquote>")
        expectRender("- e\u{301} <x>", "<ul>\n<li>e\u{301} &lt;x&gt;</li>\n</ul>")
        expectRender("[你好](https://例子.测试/路径)",
                     "<p><a href=\"https://例子.测试/路径\" rel=\"nofollow ugc noopener\">你好</a></p>")
    }
}

/// Depth caps and safe output on hostile input. Each test (each case of `rendersSafely` too) has
/// a minute, the least swift-testing can set: the whole suite takes about a second in a debug
/// build, so a quadratic or exponential renderer fails here instead of hanging the run.
@Suite(.timeLimit(.minutes(1))) struct MarkdownPathologicalTests {
    private static let cases: [(String, String)] = [
        ("10,000 *", String(repeating: "*", count: 10_000)),
        ("10,000 _", String(repeating: "_", count: 10_000)),
        ("10,000 [", String(repeating: "[", count: 10_000)),
        ("10,000 ]", String(repeating: "]", count: 10_000)),
        ("5,000 [](", String(repeating: "[](", count: 5_000)),
        ("2,500 [a](", String(repeating: "[a](", count: 2_500)),
        ("1,400 [x](y \"", String(repeating: "[x](y \"", count: 1_400)),
        ("5,000 nested >", String(repeating: ">", count: 5_000) + " deep"),
        ("5,000 nested > with spaces", String(repeating: "> ", count: 5_000) + "deep"),
        ("5,000 lines of >", String(repeating: "> a\n", count: 5_000)),
        ("3,000 nested list markers", String(repeating: "- ", count: 3_000) + "x"),
        // 9 MB, far past the 10,000-character limit: per-line indentation data keeps it linear anyway.
        ("3,000 nested list indents",
         (0..<3_000).map { String(repeating: " ", count: 2 * $0) + "- x" }.joined(separator: "\n")),
        ("3,000-line ordered sawtooth",
         (0..<3_000).map { String(repeating: "   ", count: $0 % 40) + "1. x" }.joined(separator: "\n")),
        ("10,000 backticks", String(repeating: "`", count: 10_000)),
        ("backtick runs of every length", (1...140).map { String(repeating: "`", count: $0) }.joined(separator: " ")),
        ("10,000 <", String(repeating: "<", count: 10_000)),
        ("2,500 <a@", String(repeating: "<a@b", count: 2_500)),
        ("5,000 *a", String(repeating: "*a", count: 5_000)),
        ("3,300 _a*", String(repeating: "_a*", count: 3_300)),
        ("2,500-deep strong", String(repeating: "**", count: 2_500) + "a" + String(repeating: "**", count: 2_500)),
        ("interleaved *_", String(repeating: "*_", count: 2_500) + "a" + String(repeating: "_*", count: 2_500)),
        ("mixed", String(repeating: "> - *[`<h", count: 1_000)),
        ("bare URLs", String(repeating: "https://a.b/(", count: 700)),
        ("fence storm", String(repeating: "```\n~~~\n", count: 1_200)),
        ("tabs", String(repeating: "\t- \t> ", count: 2_000)),
        ("emoji", String(repeating: "👩🏽‍💻*", count: 1_000)),
        ("lazy quote chain", String(repeating: "> - a\nb\n", count: 1_200)),
        ("3,000-line sawtooth list",
         (0..<3_000).map { String(repeating: "  ", count: $0 % 40) + "- x" }.joined(separator: "\n")),
    ]

    /// Given each hostile input, rendering ends (within the suite's time limit) with something
    /// safe. No finer timing here: speed lives in bench/.
    @Test(arguments: cases.indices)
    func rendersSafely(_ index: Int) {
        let (name, input) = Self.cases[index]
        let html = Markdown.render(input)
        #expect(!html.isEmpty, "\(name) rendered nothing")
        #expect(HTMLSafety.violations(in: html).isEmpty, "\(name): \(HTMLSafety.violations(in: html).prefix(3))")
    }

    /// Nesting deeper than the caps renders the rest as text, at the cap's depth.
    @Test func containerDepthIsCapped() {
        let quotes = Markdown.render(String(repeating: ">", count: 5_000) + " deep")
        #expect(quotes.components(separatedBy: "<blockquote>").count - 1 == Markdown.maxBlockDepth)
        #expect(quotes.contains("&gt;&gt;&gt; deep"))
        let lists = Markdown.render(String(repeating: "- ", count: 3_000) + "x")
        #expect(lists.components(separatedBy: "<ul>").count - 1 == Markdown.maxBlockDepth)
        let strong = Markdown.render(String(repeating: "**", count: 100) + "a" + String(repeating: "**", count: 100))
        #expect(strong.components(separatedBy: "<strong>").count - 1 == Markdown.maxInlineDepth)
    }

    /// Deterministic random documents over the syntax alphabet: no crash, always safe output.
    @Test func fuzzedInputsStaySafe() {
        let alphabet: [String] = [
            "*", "_", "**", "`", "```", "~~~", "[", "]", "(", ")", "<", ">", "\"", "'", "\\", "\n", "\n\n", " ",
            "    ", "\t", "- ", "1. ", "> ", "a", "한", "👩🏽‍💻", "http://", "https://x.y", "javascript:", "mailto:",
            "@", ":", "&", "#", "!", "<script>", " onerror=", "\u{0}", "\r", "e\u{301}", "data:", "/", "=",
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var failures: [String] = []
        for _ in 0..<3_000 {
            let length = next() % 40
            let input = (0..<length).map { _ in alphabet[next() % alphabet.count] }.joined()
            let violations = HTMLSafety.violations(in: Markdown.render(input))
            if !violations.isEmpty { failures.append("\(input.debugDescription): \(violations)") }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }
}

/// The XSS payload corpus, rendered raw and inside every markdown construct.
@Suite struct MarkdownXSSCorpusTests {
    /// One corpus entry; `sources` names the payload list it came from.
    struct Payload: Decodable {
        let payload: String
        let sources: [String]
    }

    static var corpusURL: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("../shared/data/xss/dev.json")
            .standardizedFileURL
    }

    /// The ways a payload is embedded in markdown, besides rendering it as is.
    static let wrappers: [(String, @Sendable (String) -> String)] = [
        ("raw", { $0 }),
        ("link destination", { "[x](\($0))" }),
        ("pointy link destination", { "[x](<\($0)>)" }),
        ("link text", { "[\($0)](http://a)" }),
        ("code span", { "`\($0)`" }),
        ("block quote", { "> \($0)" }),
        ("list item", { "- \($0)" }),
        ("emphasis", { "*\($0)*" }),
        ("autolink", { "<\($0)>" }),
        ("fenced code", { "```\n\($0)\n```" }),
        ("link title", { "[x](http://a \"\($0)\")" }),
    ]

    @Test func corpusPayloadsRenderSafely() throws {
        let data = try Data(contentsOf: Self.corpusURL)
        let payloads = try JSONDecoder().decode([Payload].self, from: data)
        #expect(payloads.count >= 1_000)
        var checked = 0
        var failures: [String] = []
        for entry in payloads {
            for (name, wrap) in Self.wrappers {
                let html = Markdown.render(wrap(entry.payload))
                checked += 1
                let violations = HTMLSafety.violations(in: html)
                if !violations.isEmpty {
                    failures.append("\(name) \(entry.payload.debugDescription): \(violations) in \(html.debugDescription)")
                }
            }
        }
        #expect(checked == payloads.count * Self.wrappers.count)
        #expect(failures.isEmpty, "\(failures.count) unsafe renderings, first: \(failures.prefix(3))")
    }

    @Test func checkerCatchesUnsafeMarkup() {
        #expect(!HTMLSafety.violations(in: "<img src=x onerror=alert(1)>").isEmpty)
        #expect(!HTMLSafety.violations(in: "<a/href='javascript&colon;alert(1)'>x</a>").isEmpty)
        #expect(!HTMLSafety.violations(in: "<a href=\"java\nscript:alert(1)\">x</a>").isEmpty)
        #expect(!HTMLSafety.violations(in: "<p/onclick=x>").isEmpty)
        #expect(!HTMLSafety.violations(in: "<p style=\"x\">").isEmpty)
        #expect(!HTMLSafety.violations(in: "<code class=\"x\" title=y>").isEmpty)
        #expect(!HTMLSafety.violations(in: "<!-- x -->").isEmpty)
        #expect(!HTMLSafety.violations(in: "<a href=\"//x\"").isEmpty)
        let safe = "<p><a href=\"/x?a=1&amp;b\" rel=\"nofollow ugc noopener\">&lt;svg&gt;</a></p>"
        #expect(HTMLSafety.violations(in: safe).isEmpty)
    }
}

/// A small HTML tokenizer that reads tags the way a browser's tokenizer does, and the allow-list
/// the renderer's output must satisfy.
enum HTMLSafety {
    /// A start or end tag with its attributes, values entity-decoded.
    struct Tag {
        var name: String
        var isEnd: Bool
        var attributes: [(name: String, value: String)]
    }

    static let allowedAttributes: [String: Set<String>] = [
        "p": [], "br": [], "em": [], "strong": [], "pre": [], "blockquote": [], "ul": [], "li": [],
        "code": ["class"], "ol": ["start"], "a": ["href", "rel", "title"],
    ]

    static let forbiddenSubstrings = [
        "<script", "<iframe", "<svg", "<math", "<object", "<embed", "<style", "<base", "<meta", "<form",
    ]

    /// Every way `html` departs from the allow-list; empty when it is safe.
    static func violations(in html: String) -> [String] {
        var problems: [String] = []
        let lowered = html.lowercased()
        for needle in forbiddenSubstrings where lowered.contains(needle) {
            problems.append("contains \(needle)")
        }
        let (tags, errors) = tokenize(html)
        problems += errors
        for tag in tags {
            guard let allowed = allowedAttributes[tag.name] else {
                problems.append("tag <\(tag.name)>")
                continue
            }
            if tag.isEnd, !tag.attributes.isEmpty { problems.append("attributes on </\(tag.name)>") }
            for (name, value) in tag.attributes {
                if name.hasPrefix("on") { problems.append("event handler \(name)") }
                if name == "style" { problems.append("style attribute") }
                guard allowed.contains(name) else {
                    problems.append("attribute \(name) on <\(tag.name)>")
                    continue
                }
                switch name {
                case "href":
                    if let problem = hrefProblem(value) { problems.append(problem) }
                case "rel":
                    if value != "nofollow ugc noopener" { problems.append("rel=\(value)") }
                case "class":
                    let name = value.dropFirst("language-".count)
                    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-".unicodeScalars)
                    if !value.hasPrefix("language-") || name.isEmpty || !name.unicodeScalars.allSatisfy(allowed.contains) {
                        problems.append("class=\(value)")
                    }
                case "start":
                    if value.isEmpty || !value.allSatisfy(\.isASCII) || Int(value) == nil { problems.append("start=\(value)") }
                default:
                    break
                }
            }
        }
        return problems
    }

    /// Checks an href as the browser would see it: control characters and whitespace removed, lowercased.
    static func hrefProblem(_ value: String) -> String? {
        let kept = value.unicodeScalars.filter { $0.value > 0x20 && $0.value != 0x7F }
        let normalized = String(String.UnicodeScalarView(kept)).lowercased()
        for scheme in ["javascript:", "vbscript:", "data:"] where normalized.contains(scheme) {
            return "href contains \(scheme): \(value.debugDescription)"
        }
        if normalized.hasPrefix("http://") || normalized.hasPrefix("https://") || normalized.hasPrefix("mailto:") {
            return nil
        }
        if let colon = normalized.firstIndex(of: ":") {
            let delimiter = normalized.firstIndex(where: { "/?#".contains($0) })
            if delimiter.map({ colon < $0 }) ?? true {
                return "href with scheme: \(value.debugDescription)"
            }
        }
        return nil
    }

    /// Splits `html` into tags like the HTML tokenizer's data, tag-name and attribute states.
    /// Anything that is not a plain start or end tag (comments, `<!`, `<?`, a stray `<`, a tag
    /// cut off by the end of input) is reported as an error: the renderer never emits it.
    static func tokenize(_ html: String) -> (tags: [Tag], errors: [String]) {
        let bytes = Array(html.utf8)
        var tags: [Tag] = []
        var errors: [String] = []
        var index = 0

        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D }
        func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
        func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

        while index < bytes.count {
            guard bytes[index] == 0x3C else {
                index += 1
                continue
            }
            var position = index + 1
            var isEnd = false
            if position < bytes.count, bytes[position] == 0x2F {
                isEnd = true
                position += 1
            }
            guard position < bytes.count, isLetter(bytes[position]) else {
                let context = string(index..<min(bytes.count, index + 12))
                errors.append("markup that is not a tag at \(index): \(context.debugDescription)")
                index += 1
                continue
            }
            let nameStart = position
            while position < bytes.count, !isSpace(bytes[position]), bytes[position] != 0x2F, bytes[position] != 0x3E {
                position += 1
            }
            var tag = Tag(name: string(nameStart..<position).lowercased(), isEnd: isEnd, attributes: [])
            var closed = false
            while position < bytes.count {
                while position < bytes.count, isSpace(bytes[position]) || bytes[position] == 0x2F {
                    position += 1
                }
                guard position < bytes.count else { break }
                if bytes[position] == 0x3E {
                    position += 1
                    closed = true
                    break
                }
                let attributeStart = position
                position += 1  // The first character may be `=`.
                while position < bytes.count, !isSpace(bytes[position]), bytes[position] != 0x2F,
                    bytes[position] != 0x3E, bytes[position] != 0x3D
                {
                    position += 1
                }
                let name = string(attributeStart..<position).lowercased()
                while position < bytes.count, isSpace(bytes[position]) {
                    position += 1
                }
                var value = ""
                if position < bytes.count, bytes[position] == 0x3D {
                    position += 1
                    while position < bytes.count, isSpace(bytes[position]) {
                        position += 1
                    }
                    if position < bytes.count, bytes[position] == 0x22 || bytes[position] == 0x27 {
                        let quote = bytes[position]
                        let valueStart = position + 1
                        position = valueStart
                        while position < bytes.count, bytes[position] != quote {
                            position += 1
                        }
                        value = string(valueStart..<min(position, bytes.count))
                        position += 1
                    } else {
                        let valueStart = position
                        while position < bytes.count, !isSpace(bytes[position]), bytes[position] != 0x3E {
                            position += 1
                        }
                        value = string(valueStart..<position)
                    }
                }
                tag.attributes.append((name, decodeCharacterReferences(value)))
            }
            if !closed { errors.append("unterminated tag <\(tag.name)") }
            tags.append(tag)
            index = position
        }
        return (tags, errors)
    }

    /// Decodes numeric and the relevant named character references in one pass, as a browser does for attribute values.
    static func decodeCharacterReferences(_ value: String) -> String {
        let named: [String: String] = [
            "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "colon": ":", "tab": "\t",
            "newline": "\n", "sol": "/", "lpar": "(", "rpar": ")", "period": ".", "comma": ",",
        ]
        let scalars = Array(value.unicodeScalars)
        var out = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "&" else {
                out.append(scalars[index])
                index += 1
                continue
            }
            var end = index + 1
            while end < scalars.count, end - index < 32,
                scalars[end].properties.isAlphabetic || ("0"..."9").contains(scalars[end]) || scalars[end] == "#"
            {
                end += 1
            }
            let body = String(String.UnicodeScalarView(scalars[(index + 1)..<end]))
            var decoded: Unicode.Scalar?
            if body.hasPrefix("#x") || body.hasPrefix("#X") {
                decoded = UInt32(body.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
            } else if body.hasPrefix("#") {
                decoded = UInt32(body.dropFirst()).flatMap(Unicode.Scalar.init)
            } else if let replacement = named[body.lowercased()] {
                decoded = replacement.unicodeScalars.first
            }
            guard let decoded else {
                out.append(scalars[index])
                index += 1
                continue
            }
            out.append(decoded)
            index = end < scalars.count && scalars[end] == ";" ? end + 1 : end
        }
        return String(out)
    }
}
