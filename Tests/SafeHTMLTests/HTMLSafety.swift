import Foundation

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
        while index < bytes.count {
            guard bytes[index] == 0x3C else {
                index += 1
                continue
            }
            guard let scanned = HTMLTagScanner.tag(in: bytes, at: index) else {
                let context = HTMLTagScanner.string(bytes, index..<min(bytes.count, index + 12))
                errors.append("markup that is not a tag at \(index): \(context.debugDescription)")
                index += 1
                continue
            }
            let attributes = scanned.attributes.map { attribute in
                (attribute.name, decodeCharacterReferences(attribute.value.map { HTMLTagScanner.string(bytes, $0) } ?? ""))
            }
            if !scanned.closed { errors.append("unterminated tag <\(scanned.name)") }
            tags.append(Tag(name: scanned.name, isEnd: scanned.isEnd, attributes: attributes))
            index = scanned.end
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
