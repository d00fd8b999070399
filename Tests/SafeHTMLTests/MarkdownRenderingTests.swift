import Foundation
import SafeHTML
import Testing

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
