import Foundation

/// Reads sanitiser output the way a browser's tokenizer does and reports every departure from the
/// allow-list and from valid nesting. Written independently of the sanitiser's own tokenizer, and
/// stricter than a browser: anything the sanitiser never emits (comments, a stray `<`, a bare `&`,
/// unquoted or single-quoted attributes, `/>`) counts as a violation.
enum SanitizedHTMLChecker {
    static let blocks: Set<String> = ["p", "pre", "blockquote", "ul", "ol"]
    static let phrasing: Set<String> = ["em", "strong", "code", "a", "br"]
    static let forbiddenSubstrings = [
        "<script", "<iframe", "<svg", "<math", "<object", "<embed", "<style", "<base", "<meta", "<form",
    ]
    static let escapes: [[UInt8]] = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].map { Array($0.utf8) }

    /// Every problem found in `html`; empty when it is safe and well nested.
    static func violations(in html: String) -> [String] {
        var problems: [String] = []
        let lowered = html.lowercased()
        for needle in forbiddenSubstrings where lowered.contains(needle) {
            problems.append("contains \(needle)")
        }
        let bytes = Array(html.utf8)
        var stack: [String] = []
        var index = 0

        func hasEscape(at position: Int) -> Bool {
            escapes.contains { escape in
                position + escape.count <= bytes.count && bytes[position..<position + escape.count].elementsEqual(escape)
            }
        }
        func decoded(_ value: String) -> String {
            value.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
                .replacingOccurrences(of: "&amp;", with: "&")
        }

        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x3C else {
                switch byte {
                case 0x3E, 0x22, 0x27:
                    problems.append("unescaped \(Character(Unicode.Scalar(byte))) in text at \(index)")
                case 0x26 where !hasEscape(at: index):
                    problems.append("bare & in text at \(index)")
                default:
                    break
                }
                if !HTMLTagScanner.isSpace(byte), stack.last == nil || stack.last == "ul" || stack.last == "ol" || stack.last == "blockquote" {
                    problems.append("text directly in <\(stack.last ?? "root")> at \(index)")
                }
                index += 1
                continue
            }
            guard let tag = HTMLTagScanner.tag(in: bytes, at: index) else {
                problems.append("markup that is not a tag at \(index): \(HTMLTagScanner.string(bytes, index..<min(bytes.count, index + 12)).debugDescription)")
                index += 1
                continue
            }
            let name = tag.name
            let isEnd = tag.isEnd
            problems += Array(repeating: "slash in <\(name)>", count: tag.slashes)
            var attributes: [(name: String, value: String)] = []
            for attribute in tag.attributes {
                switch (attribute.value, attribute.quote) {
                case (let range?, let quote?):
                    if quote != 0x22 { problems.append("single-quoted attribute \(attribute.name)") }
                    for position in range {
                        if bytes[position] == 0x26, !hasEscape(at: position) { problems.append("bare & in attribute") }
                        if bytes[position] == 0x3C || bytes[position] == 0x3E { problems.append("unescaped < or > in attribute") }
                    }
                case (.some, nil):
                    problems.append("unquoted attribute \(attribute.name)")
                case (nil, _):
                    break
                }
                attributes.append((attribute.name, decoded(attribute.value.map { HTMLTagScanner.string(bytes, $0) } ?? "")))
            }
            guard tag.closed else {
                problems.append("tag cut off at the end: <\(name)")
                break
            }
            index = tag.end
            for (attribute, value) in attributes {
                if attribute.hasPrefix("on") { problems.append("event handler \(attribute)") }
                if attribute == "style" { problems.append("style attribute") }
                if isEnd || name != "a" {
                    problems.append("attribute \(attribute) on <\(isEnd ? "/" : "")\(name)>")
                } else if attribute == "href" {
                    if let problem = hrefProblem(value) { problems.append(problem) }
                } else if attribute == "rel" {
                    if value != "nofollow ugc noopener" { problems.append("rel=\(value)") }
                } else {
                    problems.append("attribute \(attribute) on <a>")
                }
            }
            if !isEnd, name == "a", attributes.map(\.name) != ["href", "rel"] {
                problems.append("<a> attributes \(attributes.map(\.name))")
            }
            guard blocks.contains(name) || phrasing.contains(name) || name == "li" else {
                problems.append("tag <\(isEnd ? "/" : "")\(name)>")
                continue
            }
            if isEnd {
                if name == "br" {
                    problems.append("</br>")
                } else if stack.last == name {
                    stack.removeLast()
                } else {
                    problems.append("</\(name)> closes <\(stack.last ?? "nothing")>")
                }
                continue
            }
            let parent = stack.last
            switch name {
            case "li":
                if parent != "ul", parent != "ol" { problems.append("<li> in <\(parent ?? "root")>") }
            case _ where blocks.contains(name):
                if let parent, parent != "blockquote", parent != "li" { problems.append("<\(name)> in <\(parent)>") }
            default:
                if parent == nil || parent == "ul" || parent == "ol" || parent == "blockquote" {
                    problems.append("<\(name)> in <\(parent ?? "root")>")
                }
                if name == "a", stack.contains("a") { problems.append("<a> in <a>") }
            }
            if name != "br" { stack.append(name) }
        }
        if !stack.isEmpty { problems.append("unclosed \(stack)") }
        return problems
    }

    /// The markdown tests' href check, plus: the sanitiser never emits an empty href.
    static func hrefProblem(_ value: String) -> String? {
        if value.unicodeScalars.allSatisfy({ $0.value <= 0x20 || $0.value == 0x7F }) { return "empty href" }
        return HTMLSafety.hrefProblem(value)
    }
}
