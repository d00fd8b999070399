import Foundation
import SafeHTML
import Testing

@Suite struct HTMLSanitizerImportTests {
    /// Elements whose content the sanitiser drops on purpose; bodies containing one are exempt from
    /// the no-text-lost check.
    static let droppedElementPattern =
        "<(script|style|template|iframe|object|embed|noscript|textarea|title|head|svg|math|select|noembed|noframes|applet)\\b"

    /// The text of every `<name>` element in `xml`, CDATA unwrapped or XML entities decoded. A regex
    /// rather than an XML parser, because some fixtures are deliberately not well-formed XML.
    static func elements(named name: String, in xml: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: "<\(name)>(.*?)</\(name)>", options: [.dotMatchesLineSeparators])
        let source = xml as NSString
        return regex.matches(in: xml, range: NSRange(location: 0, length: source.length)).map { match in
            let body = source.substring(with: match.range(at: 1)).trimmingCharacters(in: .whitespacesAndNewlines)
            if body.hasPrefix("<![CDATA["), body.hasSuffix("]]>") {
                return String(body.dropFirst(9).dropLast(3))
            }
            return body.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
                .replacingOccurrences(of: "&amp;", with: "&")
        }
    }

    static func bodies(in folder: String, element: String) throws -> [String] {
        let directory = SharedData.directory.appendingPathComponent(folder)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".xml") }.sorted()
        var bodies: [String] = []
        for file in files {
            let xml = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            bodies += elements(named: element, in: xml)
        }
        return bodies
    }

    /// An independent reading of the visible text: tags replaced by spaces, the entities the
    /// fixtures use decoded.
    static func naiveText(_ html: String) -> String {
        var text = html.replacingOccurrences(of: "<[^>]*>", with: " ", options: .regularExpression)
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#039;", "'"), ("&#39;", "'"),
                                    ("&nbsp;", "\u{A0}"), ("&amp;", "&")]
        {
            text = text.replacingOccurrences(of: entity, with: character)
        }
        return text
    }

    static func withoutWhitespace(_ text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.filter { !$0.properties.isWhitespace }
    }

    /// Checks every body; returns how many were checked for lost text.
    static func check(_ bodies: [String]) -> (textChecked: Int, failures: [String]) {
        let droppedElement = try! NSRegularExpression(pattern: droppedElementPattern, options: [.caseInsensitive])
        var failures: [String] = []
        var textChecked = 0
        for body in bodies {
            let html = HTMLSanitizer.sanitize(body)
            let violations = SanitizedHTMLChecker.violations(in: html)
            if !violations.isEmpty { failures.append("unsafe \(body.prefix(80).debugDescription): \(violations)") }
            if HTMLSanitizer.sanitize(html) != html { failures.append("unstable \(body.prefix(80).debugDescription)") }
            let range = NSRange(location: 0, length: (body as NSString).length)
            guard droppedElement.firstMatch(in: body, range: range) == nil else { continue }
            textChecked += 1
            let after = HTMLSanitizer.plainText(html)
            let afterWords = Set(after.split(whereSeparator: \.isWhitespace))
            for word in HTMLSanitizer.plainText(body).split(whereSeparator: \.isWhitespace) where !afterWords.contains(word) {
                failures.append("lost \(word.debugDescription) from \(body.prefix(80).debugDescription)")
            }
            if withoutWhitespace(naiveText(body)) != withoutWhitespace(after) {
                failures.append("text differs for \(body.prefix(80).debugDescription): \(after.prefix(200).debugDescription)")
            }
        }
        return (textChecked, failures)
    }

    @Test func disqusMessages() throws {
        let bodies = try Self.bodies(in: "disqus", element: "message")
        #expect(bodies.count >= 15)
        #expect(bodies.contains { $0.contains("<p>") })
        let (textChecked, failures) = Self.check(bodies)
        #expect(textChecked == bodies.count)
        #expect(failures.isEmpty, "\(failures.count) problems, first: \(failures.prefix(3))")
    }

    @Test func wordPressComments() throws {
        let bodies = try Self.bodies(in: "wordpress", element: "wp:comment_content")
        #expect(bodies.count >= 40)
        #expect(bodies.contains { $0.contains("<blockquote>") })
        let (textChecked, failures) = Self.check(bodies)
        #expect(textChecked == bodies.count)
        #expect(failures.isEmpty, "\(failures.count) problems, first: \(failures.prefix(3))")
    }

    @Test func disqusMessageWithLinkAndBreaks() {
        let message = "<p>The quick brown fox jumps over the lazy dog.</p><p><a href=\"https://https://radio-t.com\" rel=\"nofollow noopener\" title=\"radio-t\">some link</a></p>"
        #expect(HTMLSanitizer.sanitize(message) == """
            <p>The quick brown fox jumps over the lazy dog.</p>
            <p><a href="https://https://radio-t.com" rel="nofollow ugc noopener">some link</a></p>
            """)
        let breaks = "<p>Для платных приложений 99.95% uptime SLA.<br>Будут Премьер аккаунты.<br>Всем :)</p>"
        #expect(HTMLSanitizer.sanitize(breaks) == "<p>Для платных приложений 99.95% uptime SLA.<br>\nБудут Премьер аккаунты.<br>\nВсем :)</p>")
        #expect(HTMLSanitizer.plainText(breaks) == "Для платных приложений 99.95% uptime SLA.\nБудут Премьер аккаунты.\nВсем :)")
    }

    @Test func wordPressPlainTextComment() {
        let comment = "This user it trying to be anonymous.\n\n\n    They used a fake email, so there should be no <a href=\"http://gravatar.com/\" rel=\"nofollow\">Gravatar</a> associated with it.\n    They did not speify a website, so there should be no link to it in the comment.\n"
        #expect(HTMLSanitizer.sanitize(comment) == """
            <p>This user it trying to be anonymous.</p>
            <p>They used a fake email, so there should be no <a href="http://gravatar.com/" rel="nofollow ugc noopener">Gravatar</a> associated with it.<br>
            They did not speify a website, so there should be no link to it in the comment.</p>
            """)
    }
}
