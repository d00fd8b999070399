import Foundation
import SafeHTML
import Testing

/// The XSS payload corpus, sanitised as is and inside the constructs imports commonly have.
@Suite struct HTMLSanitizerXSSCorpusTests {
    /// The ways a payload is embedded in imported HTML, besides sanitising it as is.
    static let wrappers: [(String, @Sendable (String) -> String)] = [
        ("raw", { $0 }),
        ("paragraph", { "<p>\($0)</p>" }),
        ("href", { "<a href=\"\($0)\">x</a>" }),
        ("div", { "<div>\($0)</div>" }),
        ("bold", { "<b>\($0)</b>" }),
    ]

    @Test func corpusPayloadsSanitizeSafelyAndIdempotently() throws {
        let payloads = try SharedData.xssPayloads()
        #expect(payloads.count >= 1_000)
        var checked = 0
        var unsafe: [String] = []
        var unstable: [String] = []
        var onePassDiffers: [String] = []
        for entry in payloads {
            for (name, wrap) in Self.wrappers {
                let input = wrap(entry.payload)
                let html = HTMLSanitizer.sanitize(input)
                checked += 1
                let violations = SanitizedHTMLChecker.violations(in: html)
                if !violations.isEmpty {
                    unsafe.append("\(name) \(entry.payload.debugDescription): \(violations) in \(html.debugDescription)")
                }
                let again = HTMLSanitizer.sanitize(html)
                if again != html {
                    unstable.append("\(name) \(entry.payload.debugDescription): \(html.debugDescription) → \(again.debugDescription)")
                }
                // The plain text becomes an imported comment's markdown body; the importer gets both
                // from one pass, which must give exactly what the two passes give.
                let text = HTMLSanitizer.plainText(input)
                let both = HTMLSanitizer.sanitizeWithPlainText(input)
                if both.html.unicodeScalars.elementsEqual(html.unicodeScalars) == false
                    || both.text.unicodeScalars.elementsEqual(text.unicodeScalars) == false {
                    onePassDiffers.append("\(name) \(entry.payload.debugDescription)")
                }
            }
        }
        #expect(checked == payloads.count * Self.wrappers.count)
        #expect(unsafe.isEmpty, "\(unsafe.count) unsafe outputs, first: \(unsafe.prefix(3))")
        #expect(unstable.isEmpty, "\(unstable.count) outputs change when sanitised again, first: \(unstable.prefix(3))")
        #expect(onePassDiffers.isEmpty, "\(onePassDiffers.count) one-pass results differ, first: \(onePassDiffers.prefix(3))")
    }

    @Test func eventHandlerNamesNeverSurvive() throws {
        let directory = SharedData.xssCorpus.deletingLastPathComponent()
        var names: Set<String> = []
        for file in ["PATT-0xcela_event_handlers.txt", "PATT-port_swigger_xss_cheatsheet_event_handlers.txt"] {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(whereSeparator: \.isNewline) where !line.isEmpty {
                names.insert(String(line).trimmingCharacters(in: .whitespaces))
            }
        }
        #expect(names.count > 50)
        var failures: [String] = []
        for name in names {
            for input in ["<p \(name)=alert(1)>x</p>", "<a href=/x \(name)=\"alert(1)\">x</a>", "<b/\(name)=alert(1)>x"] {
                let html = HTMLSanitizer.sanitize(input)
                if html.lowercased().contains(name.lowercased() + "=") || !SanitizedHTMLChecker.violations(in: html).isEmpty {
                    failures.append("\(input) → \(html)")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(3))")
    }
}
