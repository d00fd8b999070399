import Foundation
import SafeHTML
import Testing

/// The XSS payload corpus, rendered raw and inside every markdown construct.
@Suite struct MarkdownXSSCorpusTests {
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
        let payloads = try SharedData.xssPayloads()
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
