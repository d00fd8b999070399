import Foundation
import Testing

@testable import SafeHTML

/// Exact-output tests for the HTML sanitiser: every kept construct, every dropping rule, malformed
/// markup, character references, newline handling and text in many scripts. Every expectation also
/// checks that the output passes the allow-list checker and that sanitising it again changes nothing.
@Suite struct HTMLSanitizerTests {
    /// Sanitises and compares Unicode scalars, because `String ==` treats canonically equivalent text as equal.
    private func expectSanitize(_ html: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let output = HTMLSanitizer.sanitize(html)
        #expect(Array(output.unicodeScalars) == Array(expected.unicodeScalars),
                "sanitize(\(html.debugDescription)) = \(output.debugDescription)", sourceLocation: sourceLocation)
        let again = HTMLSanitizer.sanitize(output)
        #expect(Array(again.unicodeScalars) == Array(output.unicodeScalars),
                "not idempotent: \(output.debugDescription) → \(again.debugDescription)", sourceLocation: sourceLocation)
        let violations = SanitizedHTMLChecker.violations(in: output)
        #expect(violations.isEmpty, "\(output.debugDescription): \(violations)", sourceLocation: sourceLocation)
        let both = HTMLSanitizer.sanitizeWithPlainText(html)
        #expect(Array(both.html.unicodeScalars) == Array(output.unicodeScalars),
                "one-pass HTML differs for \(html.debugDescription)", sourceLocation: sourceLocation)
    }

    private func expectPlainText(_ html: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let text = HTMLSanitizer.plainText(html)
        #expect(Array(text.unicodeScalars) == Array(expected.unicodeScalars),
                "plainText(\(html.debugDescription)) = \(text.debugDescription)", sourceLocation: sourceLocation)
        let both = HTMLSanitizer.sanitizeWithPlainText(html)
        #expect(Array(both.text.unicodeScalars) == Array(text.unicodeScalars),
                "one-pass text differs for \(html.debugDescription)", sourceLocation: sourceLocation)
    }

    private let rel = "rel=\"nofollow ugc noopener\""

    // MARK: Kept constructs

    @Test func paragraphsAndBreaks() {
        expectSanitize("", "")
        expectSanitize("  \n\n ", "")
        expectSanitize("hello", "<p>hello</p>")
        expectSanitize("<P>Para</P><p>two", "<p>Para</p>\n<p>two</p>")
        expectSanitize("<p></p><p>  </p>", "")
        expectSanitize("a<br>b<BR/>c</br>d", "<p>a<br>\nb<br>\nc<br>\nd</p>")
        expectSanitize("<br>x", "<p><br>\nx</p>")
    }

    @Test func emphasisAndCode() {
        expectSanitize("<em>e</em><i>i</i><strong>s</strong><b>b</b>",
                       "<p><em>e</em><em>i</em><strong>s</strong><strong>b</strong></p>")
        expectSanitize("<b>bold</b> and <i>it</i>", "<p><strong>bold</strong> and <em>it</em></p>")
        expectSanitize("<code>x &lt; y</code>", "<p><code>x &lt; y</code></p>")
        expectSanitize("<em></em>x", "<p>x</p>")
        expectSanitize("<pre>  a\n\n  b</pre>", "<pre>  a\n\n  b</pre>")
        expectSanitize("<pre><code>let x = 1 &lt; 2\n</code></pre>", "<pre><code>let x = 1 &lt; 2\n</code></pre>")
        expectSanitize("<pre>a<br>b</pre>", "<pre>a\nb</pre>")
        expectSanitize("<p>a<pre>b</pre>c", "<p>a</p>\n<pre>b</pre>\n<p>c</p>")
        expectSanitize("<listing>l</listing>", "<pre>l</pre>")
    }

    @Test func quotesAndLists() {
        expectSanitize("<blockquote>q</blockquote>", "<blockquote>\n<p>q</p>\n</blockquote>")
        expectSanitize("<blockquote><p>a</p><p>b</p></blockquote>", "<blockquote>\n<p>a</p>\n<p>b</p>\n</blockquote>")
        expectSanitize("<blockquote>q\n\nr</blockquote>", "<blockquote>\n<p>q</p>\n<p>r</p>\n</blockquote>")
        expectSanitize("<ol><li>one</li><li>two</li></ol>", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>")
        expectSanitize("<ul><li>a<li>b</ul>", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>")
        expectSanitize("<ul><li>a<ul><li>b</li></ul></li></ul>", "<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul>\n</li>\n</ul>")
        expectSanitize("<ul><li><p>a</p><p>b</p></li></ul>", "<ul>\n<li>\n<p>a</p>\n<p>b</p>\n</li>\n</ul>")
        expectSanitize("<ul><li>a\n\nb</li></ul>", "<ul>\n<li>a\n<p>b</p>\n</li>\n</ul>")
        expectSanitize("<ul>\n\t<li>x</li>\n</ul>", "<ul>\n<li>x</li>\n</ul>")
        expectSanitize("<ol start=3 type=a><li value=9>x</li></ol>", "<ol>\n<li>x</li>\n</ol>")
        expectSanitize("<menu><li>m</li></menu>", "<ul>\n<li>m</li>\n</ul>")
    }

    @Test func links() {
        expectSanitize("<a href='https://example.com/x?y=1&z=2'>l</a>",
                       "<p><a href=\"https://example.com/x?y=1&amp;z=2\" \(rel)>l</a></p>")
        expectSanitize("<a href=\"http://e.com/?a=1&amp;b=2\" title=t>l</a>",
                       "<p><a href=\"http://e.com/?a=1&amp;b=2\" \(rel)>l</a></p>")
        expectSanitize("<a href=mailto:a@b.c>m</a>", "<p><a href=\"mailto:a@b.c\" \(rel)>m</a></p>")
        expectSanitize("<a href=/rel>r</a>", "<p><a href=\"/rel\" \(rel)>r</a></p>")
        expectSanitize("<a href=#frag>f</a>", "<p><a href=\"#frag\" \(rel)>f</a></p>")
        expectSanitize("<a href=\"page.html\">p</a>", "<p><a href=\"page.html\" \(rel)>p</a></p>")
        expectSanitize("<A HREF=\"HTTPS://E.COM\">u</A>", "<p><a href=\"HTTPS://E.COM\" \(rel)>u</a></p>")
        expectSanitize("<a href=\" https://e.com \">w</a>", "<p><a href=\"https://e.com\" \(rel)>w</a></p>")
        expectSanitize("<a href=\"/x y\">sp</a>", "<p><a href=\"/x%20y\" \(rel)>sp</a></p>")
        expectSanitize("<a href=\"/?a=1&copy=2&amp\">q</a>", "<p><a href=\"/?a=1&amp;copy=2&amp;\" \(rel)>q</a></p>")
        expectSanitize("<a href=\"https://e.com/&quot;onmouseover=&quot;x\">q</a>",
                       "<p><a href=\"https://e.com/&quot;onmouseover=&quot;x\" \(rel)>q</a></p>")
        expectSanitize("<a HREF=\"/x\" onclick=\"e()\" style=\"s\" title=\"t\" class=c rel=opener target=_blank>attrs</a>",
                       "<p><a href=\"/x\" \(rel)>attrs</a></p>")
        expectSanitize("<a href=\"/a\" href=\"javascript:x\">dup</a>", "<p><a href=\"/a\" \(rel)>dup</a></p>")
        expectSanitize("<a href=\"/a\">a<a href=\"/b\">b</a></a>",
                       "<p><a href=\"/a\" \(rel)>a</a><a href=\"/b\" \(rel)>b</a></p>")
        expectSanitize("<a href=/x><p>a</p><p>b</p></a>", "<p><a href=\"/x\" \(rel)>a</a></p>\n<p>b</p>")
        expectSanitize("<b><a href=/x>l</b>m</a>",
                       "<p><strong><a href=\"/x\" \(rel)>l</a></strong><a href=\"/x\" \(rel)>m</a></p>")
    }

    @Test func rejectedLinksKeepTheirText() {
        for href in [
            "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\nscript:alert(1)",
            "java\tscript:alert(1)", "\u{1}javascript:alert(1)", "&#106;avascript:alert(1)", "&#x6A;avascript:alert(1)",
            "jav&#x09;ascript:alert(1)", "javascript&colon;alert(1)", "javascript&#58;alert(1)", "vbscript:x",
            "data:text/html,<script>x</script>", "DATA:image/png;base64,AAAA", "ftp://x", "file:///etc/passwd",
            "http:evil", "https:/evil", "x:y", "/redirect?to=javascript:alert(1)", "%6Aavascript:alert(1)",
            "&amp;#106;avascript:alert(1)", "", "   ",
        ] {
            expectSanitize("<a href=\"\(href)\">text</a>", "<p>text</p>")
        }
        expectSanitize("<a>no href</a>", "<p>no href</p>")
        expectSanitize("<a href>bare</a>", "<p>bare</p>")
        expectSanitize("<a name=x>anchor</a>", "<p>anchor</p>")
    }

    // MARK: Dropping rules

    @Test func otherTagsGoButTheirTextStays() {
        expectSanitize("<div>a</div><div>b</div>", "<p>a</p>\n<p>b</p>")
        expectSanitize("<span class=x>s</span> <u>u</u> <font color=red>f</font> <small>m</small>",
                       "<p>s u f m</p>")
        expectSanitize("<h1>Title</h1>text", "<p>Title</p>\n<p>text</p>")
        expectSanitize("<table><tr><td>c1</td><td>c2</td></tr></table>", "<p>c1</p>\n<p>c2</p>")
        expectSanitize("a<hr>b", "<p>a</p>\n<p>b</p>")
        expectSanitize("x<img src=x onerror=alert(1) alt=y>z", "<p>xz</p>")
        expectSanitize("<form action=/x><input value=v><button>go</button></form>", "<p>go</p>")
        expectSanitize("<p onclick=x style=y class=z id=w>p</p>", "<p>p</p>")
        expectSanitize("<html><body><p>b</p></body></html>", "<p>b</p>")
        expectSanitize("<xmp><b>x</b></xmp>", "<pre>&lt;b&gt;x&lt;/b&gt;</pre>")
        expectSanitize("<plaintext><b>x", "<pre>&lt;b&gt;x</pre>")
    }

    @Test func droppedElementsLoseTheirContent() {
        for name in [
            "script", "style", "template", "iframe", "object", "noscript", "textarea", "title", "svg", "math",
            "select", "noembed", "noframes", "applet",
        ] {
            expectSanitize("a<\(name) x=1>hidden <g>deeper</g> &amp; more</\(name)>b", "<p>ab</p>")
            expectSanitize("a<\(name.uppercased())>hidden</\(name.uppercased())>b", "<p>ab</p>")
        }
        expectSanitize("a<embed src=x>b", "<p>ab</p>")
        expectSanitize("<head><title>t</title><style>s</style></head><body>b</body>", "<p>b</p>")
        expectSanitize("<head><meta charset=utf-8>text", "<p>text</p>")
        expectSanitize("x<head>y</head>z", "<p>xyz</p>")
        expectSanitize("a<script>never closed", "<p>a</p>")
        expectSanitize("a<svg><text>s</text>never closed", "<p>a</p>")
        expectSanitize("<script>if (a < b) { document.write('</p>') }</script>x", "<p>x</p>")
        expectSanitize("<script><!--<script></script>hidden</script>shown", "<p>shown</p>")
        expectSanitize("<script type=text/template><p>x</p></script >y", "<p>y</p>")
        expectSanitize("<style>p { color: red }</style >y", "<p>y</p>")
        expectSanitize("<textarea><b>&lt;</b></textarea>y", "<p>y</p>")
        expectSanitize("<template><template>x</template>y</template>z", "<p>z</p>")
        expectSanitize("<select><option>o<select>p", "<p>p</p>")
        expectSanitize("<svg/>visible", "<p>visible</p>")
        // HTML tags such as <p> and <b> end svg and math content in browsers, so their text shows.
        expectSanitize("<svg><p>breakout</p></svg>", "<p>breakout</p>")
        expectSanitize("a<svg><g>hidden</g><b>bold</b></svg>b", "<p>a<strong>bold</strong>b</p>")
        expectSanitize("<svg><svg></svg>still</svg>out", "<p>out</p>")
        expectSanitize("<svg><![CDATA[</svg>]]></svg>out", "<p>out</p>")
        expectSanitize("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "")
        expectSanitize("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">", "<p>&quot;&gt;</p>")
    }

    @Test func commentsDoctypesAndProcessingInstructionsGo() {
        expectSanitize("a<!-- c -->b", "<p>ab</p>")
        expectSanitize("a<!-- <script>x</script> -->b", "<p>ab</p>")
        expectSanitize("a<!-->b", "<p>ab</p>")
        expectSanitize("a<!--->b", "<p>ab</p>")
        expectSanitize("a<!-- x --!>b", "<p>ab</p>")
        expectSanitize("a<!-- never closed", "<p>a</p>")
        expectSanitize("a<![CDATA[c]]>b", "<p>ab</p>")
        expectSanitize("a<?php echo 1 ?>b", "<p>ab</p>")
        expectSanitize("a<?xml version=\"1.0\"?>b", "<p>ab</p>")
        expectSanitize("<!DOCTYPE html>b", "<p>b</p>")
        expectSanitize("a<!bogus>b", "<p>ab</p>")
        expectSanitize("a</ bogus>b", "<p>ab</p>")
        expectSanitize("a</>b", "<p>ab</p>")
    }

    // MARK: Malformed markup

    @Test func malformedMarkupIsRepaired() {
        expectSanitize("<b>unclosed", "<p><strong>unclosed</strong></p>")
        expectSanitize("stray</b></p></div></li></ul></blockquote></pre></a>", "<p>stray</p>")
        expectSanitize("<b>1<i>2</b>3</i>", "<p><strong>1<em>2</em></strong><em>3</em></p>")
        expectSanitize("<b>a</strong>b</b>", "<p><strong>ab</strong></p>")
        expectSanitize("<em>a<p>b</p></em>", "<p><em>a</em></p>\n<p><em>b</em></p>")
        expectSanitize("<b><p>a</p><p>b</p></b>", "<p><strong>a</strong></p>\n<p><strong>b</strong></p>")
        expectSanitize("<p>a<ul><li>b</ul>c", "<p>a</p>\n<ul>\n<li>b</li>\n</ul>\n<p>c</p>")
        expectSanitize("<p>a<blockquote>b</p>c</blockquote>d", "<p>a</p>\n<blockquote>\n<p>b</p>\n<p>c</p>\n</blockquote>\n<p>d</p>")
        expectSanitize("<ul>loose<li>x</ul>", "<ul>\n<li>loose</li>\n<li>x</li>\n</ul>")
        expectSanitize("<li>alone", "<ul>\n<li>alone</li>\n</ul>")
        expectSanitize("<li>x</li>tail", "<ul>\n<li>x</li>\n</ul>\n<p>tail</p>")
        expectSanitize("<ul><li>a</ol>b</ul>", "<ul>\n<li>ab</li>\n</ul>")
        expectSanitize("<ul><blockquote>q</blockquote></ul>", "<ul>\n<li>\n<blockquote>\n<p>q</p>\n</blockquote>\n</li>\n</ul>")
        expectSanitize("<pre><p>a</p><ul><li>b</pre>", "<pre>ab</pre>")
        expectSanitize("<p/>x<p/>y", "<p>x</p>\n<p>y</p>")
    }

    @Test func lessThanThatStartsNoTagIsText() {
        expectSanitize("a < b", "<p>a &lt; b</p>")
        expectSanitize("1<2 and 3>2", "<p>1&lt;2 and 3&gt;2</p>")
        expectSanitize("<3 <_< < p>", "<p>&lt;3 &lt;_&lt; &lt; p&gt;</p>")
        expectSanitize("a <", "<p>a &lt;</p>")
        expectSanitize("a </", "<p>a &lt;/</p>")
        // A tag cut off by the end of the input stays as text.
        expectSanitize("a <b", "<p>a &lt;b</p>")
        expectSanitize("a <a href='x", "<p>a &lt;a href=&#39;x</p>")
        expectSanitize("<p>x</p><img src=\"y", "<p>x</p>\n<p>&lt;img src=&quot;y</p>")
        expectSanitize("x</p", "<p>x&lt;/p</p>")
    }

    @Test func attributeSyntaxFollowsTheTokenizer() {
        expectSanitize("<a href=/x title='a>b'>l</a>", "<p><a href=\"/x\" \(rel)>l</a></p>")
        expectSanitize("<a title=\"a>b\" href=/x>l</a>", "<p><a href=\"/x\" \(rel)>l</a></p>")
        expectSanitize("<a/href=/x>l</a>", "<p><a href=\"/x\" \(rel)>l</a></p>")
        expectSanitize("<a href = \"/x\" >l</a>", "<p><a href=\"/x\" \(rel)>l</a></p>")
        expectSanitize("<a =x href=/x>l</a>", "<p><a href=\"/x\" \(rel)>l</a></p>")
        expectSanitize("<a href=/x/>l</a>", "<p><a href=\"/x/\" \(rel)>l</a></p>")
        expectSanitize("<a\nhref=/x\n>l</a>", "<p><a href=\"/x\" \(rel)>l</a></p>")
        expectSanitize("<p title=\"<script>alert(1)</script>\">t</p>", "<p>t</p>")
        expectSanitize("<div title=\"</div><script>alert(1)</script>\">t</div>", "<p>t</p>")
    }

    // MARK: Character references

    @Test func characterReferences() {
        expectSanitize("&lt;script&gt;alert(1)&lt;/script&gt;", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>")
        expectSanitize("&amp; &lt; &gt; &quot; &apos; &#39;", "<p>&amp; &lt; &gt; &quot; &#39; &#39;</p>")
        expectSanitize("a&nbsp;b", "<p>a\u{A0}b</p>")
        expectSanitize("&copy; &reg; &hellip; &mdash; &ndash; &lsquo;&rsquo; &ldquo;&rdquo; &laquo;&raquo; &eacute;&Eacute;",
                       "<p>© ® … — – ‘’ “” «» éÉ</p>")
        expectSanitize("&euro; &trade; &bull; &times; &divide; &alpha;&Omega; &larr;&rArr; &hearts; &yuml;",
                       "<p>€ ™ • × ÷ αΩ ←⇒ ♥ ÿ</p>")
        // Legacy names match without a semicolon, as in browsers; others need it.
        expectSanitize("&copy 2020 &amp &notit; &hellip", "<p>© 2020 &amp; ¬it; &amp;hellip</p>")
        expectSanitize("&bogus; &AMP; &Amp; & ; &#; &#x;", "<p>&amp;bogus; &amp; &amp;Amp; &amp; ; &amp;#; &amp;#x;</p>")
        expectSanitize("&#65;&#x42;&#X43&#0068; &#x1F600;", "<p>ABCD 😀</p>")
        expectSanitize("&#0; &#xD800; &#x110000; &#99999999999999999999;", "<p>\u{FFFD} \u{FFFD} \u{FFFD} \u{FFFD}</p>")
        expectSanitize("&#x80;&#x92;&#x9F;", "<p>€’Ÿ</p>")
        expectSanitize("a&#10;b&#13;c", "<p>a<br>\nb<br>\nc</p>")
        expectSanitize("<a href=\"/?x=&lt;&#34;\">q</a>", "<p><a href=\"/?x=&lt;&quot;\" \(rel)>q</a></p>")
    }

    // MARK: Newlines in text

    @Test func plainTextWithNewlinesBecomesParagraphs() {
        expectSanitize("line1\nline2\n\npara2\n\n\n\npara3", "<p>line1<br>\nline2</p>\n<p>para2</p>\n<p>para3</p>")
        expectSanitize("  lead\n   indented  \n", "<p>lead<br>\nindented</p>")
        expectSanitize("a\r\nb\rc\r\n\r\nd", "<p>a<br>\nb<br>\nc</p>\n<p>d</p>")
        expectSanitize("a \n \n b", "<p>a</p>\n<p>b</p>")
        expectSanitize("x<br>\ny", "<p>x<br>\ny</p>")
        expectSanitize("x<br />\n<br />\ny", "<p>x<br>\n<br>\ny</p>")
        expectSanitize("x<br>\n\ny", "<p>x<br>\n<br>\ny</p>")
        expectSanitize("x<br>\n\n\ny", "<p>x<br>\n</p>\n<p>y</p>")
        expectSanitize("<p>a</p>\n\n<p>b</p>\n", "<p>a</p>\n<p>b</p>")
        expectSanitize("<p>a\nb</p>", "<p>a<br>\nb</p>")
        expectSanitize("<b>a\n\nb</b>", "<p><strong>a</strong></p>\n<p><strong>b</strong></p>")
        expectSanitize("<pre>\n  keep\n\n  all\n</pre>", "<pre>\n  keep\n\n  all\n</pre>")
        expectSanitize("a  b\tc", "<p>a  b\tc</p>")
        expectSanitize("a <em>b</em> c", "<p>a <em>b</em> c</p>")
        expectSanitize("a<em> b </em>c", "<p>a <em>b</em> c</p>")
        expectSanitize("Hi, this is a comment.<br />To delete a comment, just log in and view the post&#039;s comments.",
                       "<p>Hi, this is a comment.<br>\nTo delete a comment, just log in and view the post&#39;s comments.</p>")
        expectSanitize("When you have a comment with multiple lines:\nWordPress exports it like this.",
                       "<p>When you have a comment with multiple lines:<br>\nWordPress exports it like this.</p>")
        expectSanitize("<blockquote>quoted</blockquote>\nReply text\n\nSecond",
                       "<blockquote>\n<p>quoted</p>\n</blockquote>\n<p>Reply text</p>\n<p>Second</p>")
    }

    @Test func nulAndControlCharacters() {
        expectSanitize("nul\u{0}x", "<p>nul\u{FFFD}x</p>")
        expectSanitize("<a href=\"/a\u{0}b\">l</a>", "<p><a href=\"/a\u{FFFD}b\" \(rel)>l</a></p>")
        expectSanitize("bell\u{7}x", "<p>bell\u{7}x</p>")
    }

    // MARK: Text in every script

    @Test func textInEveryScriptSurvivesByteForByte() {
        let samples = [
            "안녕하세요, 세계! 한국어 댓글입니다.", "你好，世界。这是一条评论。", "繁體中文：謝謝你的文章", "こんにちは、世界。カタカナ",
            "👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 🇰🇷 👍🏽 ❤️ 🫶🏿", "שלום עולם, זו תגובה", "مرحبا بالعالم، هذا تعليق",
            "mixed \u{200F}עברית\u{200E} and English \u{202E}reversed\u{202C}", "e\u{301} vs é, n\u{303}, a\u{30A}\u{301}",
            "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Привет, мир", "Γειά σου Κόσμε",
            "zero\u{200B}width\u{200D}joiner\u{FEFF}bom", "☺︎ ☺️", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛", "\u{E000} private use",
        ]
        for sample in samples {
            let output = HTMLSanitizer.sanitize(sample)
            #expect(Array(output.utf8) == Array("<p>\(sample)</p>".utf8), "\(sample.debugDescription) → \(output.debugDescription)")
            let wrapped = HTMLSanitizer.sanitize("<div><b>\(sample)</b></div>")
            #expect(Array(wrapped.utf8) == Array("<p><strong>\(sample)</strong></p>".utf8), "\(wrapped.debugDescription)")
            let text = HTMLSanitizer.plainText("<p>\(sample)</p>")
            #expect(Array(text.utf8) == Array(sample.utf8), "\(text.debugDescription)")
            let link = HTMLSanitizer.sanitize("<a href=\"/wiki/\(sample)\">\(sample)</a>")
            #expect(link.utf8.count > 0 && link.contains("/wiki/"), "\(link.debugDescription)")
        }
        // Syntax characters next to multi-byte scalars do not split them.
        expectSanitize("한<b>국</b>어\n👩‍💻<br>中", "<p>한<strong>국</strong>어<br>\n👩‍💻<br>\n中</p>")
    }

    // MARK: Plain text

    @Test func plainText() {
        expectPlainText("", "")
        expectPlainText("<p>a  b</p><p>c</p>", "a b\n\nc")
        expectPlainText("<ul><li>a</li><li>b</li></ul>tail", "a\nb\n\ntail")
        expectPlainText("x<br>y", "x\ny")
        expectPlainText("line1\nline2\n\n\npara", "line1\nline2\n\npara")
        expectPlainText("<pre>\n a  b\n</pre>z", " a  b\n\nz")
        expectPlainText("<blockquote>q</blockquote>r", "q\n\nr")
        expectPlainText("&lt;b&gt; &amp; &copy;", "<b> & ©")
        expectPlainText("<script>x</script><style>y</style><svg>z</svg>shown", "shown")
        expectPlainText(" a \t b ", "a b")
        expectPlainText("<a href=\"javascript:x\">link text</a>", "link text")
        expectPlainText("<div>a</div><div>b</div>", "a\n\nb")
        expectPlainText("<b>bold</b><i>it</i> <code>c</code>", "boldit c")
        expectPlainText("a <b", "a <b")
    }

    // MARK: Markdown's output

    /// Words joined by single spaces are written as one run; other spacing is kept as typed in
    /// HTML (browsers fold it) and folded in plain text.
    @Test func spacingBetweenWords() {
        expectSanitize("one two  three\tfour \u{A0}five", "<p>one two  three\tfour \u{A0}five</p>")
        expectPlainText("one two  three\tfour \u{A0}five", "one two three four \u{A0}five")
        expectSanitize("a &amp; b <em>c d</em> e", "<p>a &amp; b <em>c d</em> e</p>")
    }

    @Test func renderedMarkdownSanitizesToItself() {
        for source in [
            "hello", "a\nb\n\nc", "> quote\n> more\n\ntext", "- a\n- b\n  - c", "- a\n\n- b", "1. one\n2. two",
            "*em* **strong** `code <x>`", "```\nlet x = 1 < 2\n```", "[link](http://a.b/c?d=1&e=2)", "<http://a.b>",
            "a & b < c > d \" e ' f", "> - quoted list\n>\n> para", "한국어 *강조* 👩‍💻",
        ] {
            let html = Markdown.render(source)
            expectSanitize(html, html)
        }
    }

    // MARK: Limits

    @Test func nestingDepthIsBounded() {
        let count = 5_000
        let cases: [(String, String)] = [
            (String(repeating: "<blockquote>", count: count) + "x", "<blockquote>"),
            (String(repeating: "<ul><li>", count: count) + "x", "<ul>"),
            (String(repeating: "<ol>", count: count) + "x", "<ol>"),
            (String(repeating: "<b>", count: count) + "x", "<strong>"),
            (String(repeating: "<em><code>", count: count) + "x", "<em>"),
        ]
        for (input, tag) in cases {
            let output = HTMLSanitizer.sanitize(input)
            let opened = output.components(separatedBy: tag).count - 1
            #expect(opened >= 1 && opened <= HTMLSanitizer.maxBlockDepth, "\(tag) opened \(opened) times")
            #expect(output.contains("x"))
            #expect(SanitizedHTMLChecker.violations(in: output).isEmpty)
            #expect(HTMLSanitizer.sanitize(output) == output)
        }
        let svg = String(repeating: "<svg>", count: count) + "hidden" + String(repeating: "</svg>", count: count) + "shown"
        #expect(HTMLSanitizer.sanitize(svg) == "<p>shown</p>")
    }

    @Test func pathologicalInputsFinish() {
        let inputs = [
            String(repeating: "<a title=\"", count: 20_000), String(repeating: "<!--", count: 20_000),
            String(repeating: "<script>", count: 20_000), "<script>" + String(repeating: "<!--<script>", count: 20_000),
            String(repeating: "&#x1111111111;", count: 20_000), String(repeating: "<", count: 20_000),
            String(repeating: "</x", count: 20_000), String(repeating: "<li>", count: 20_000),
            String(repeating: "<b><i>x</b>", count: 20_000), String(repeating: "\n", count: 20_000) + "x",
            "<a href=\"/\(String(repeating: "y", count: 20_000))\">" + String(repeating: "<p>x", count: 2_000),
        ]
        for input in inputs {
            let output = HTMLSanitizer.sanitize(input)
            #expect(SanitizedHTMLChecker.violations(in: output).isEmpty)
            #expect(output.utf8.count <= 10 * input.utf8.count + 100)
            _ = HTMLSanitizer.plainText(input)
        }
    }

    // MARK: The checker

    @Test func checkerCatchesUnsafeMarkup() {
        for unsafe in [
            "<img src=x onerror=alert(1)>", "<p onclick=\"x\">a</p>", "<p style=\"x\">a</p>",
            "<p><a href=\"javascript:alert(1)\" rel=\"nofollow ugc noopener\">x</a></p>",
            "<p><a href=\"java&#10;script:x\" rel=\"nofollow ugc noopener\">x</a></p>",
            "<p><a href=\"x\">y</a></p>", "<p>&lt;svg <SVG>x</SVG></p>", "<!-- x -->", "<p>a</p", "<p><p>a</p></p>",
            "<ul>x</ul>", "a", "<p>a &copy b</p>", "<p>\"</p>", "<p>a</em></p>", "<li>x</li>", "<p><br/></p>",
        ] {
            #expect(!SanitizedHTMLChecker.violations(in: unsafe).isEmpty, "\(unsafe.debugDescription)")
        }
        let safe = "<p><a href=\"/x?a=1&amp;b\" rel=\"nofollow ugc noopener\">&lt;svg&gt;</a><br>\n<em>e</em></p>\n<ul>\n<li>x</li>\n</ul>"
        #expect(SanitizedHTMLChecker.violations(in: safe).isEmpty)
    }
}
