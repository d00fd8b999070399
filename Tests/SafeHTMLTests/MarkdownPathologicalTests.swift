import Foundation
import Testing

@testable import SafeHTML

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
