import Foundation

/// The little HTML that imported comments contain: tags such as `<br />` and `<a href=…>`, and entities.
enum ImportedHTML {
    /// A tag longer than this is taken for a stray `<` in text.
    private static let maximumTagLength = 2_000

    /// `text` with each tag replaced by a space, and the `href` of each `<a>` tag.
    static func stripTags(_ text: String) -> (text: String, hrefs: [String]) {
        guard text.contains("<") else { return (text, []) }
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var hrefs: [String] = []
        var index = 0
        while index < scalars.count {
            if scalars[index] == "<", let end = tagEnd(in: scalars, openingAt: index) {
                let tag = String(String.UnicodeScalarView(scalars[(index + 1)..<end]))
                if let href = anchorHref(tag) { hrefs.append(href) }
                result.append(" ")
                index = end + 1
            } else {
                result.append(scalars[index])
                index += 1
            }
        }
        return (String(result), hrefs)
    }

    /// The index of the `>` closing a tag that opens at `start`, or nil when the `<` is plain text
    /// (as in `<3` or `a < b`).
    private static func tagEnd(in scalars: [Unicode.Scalar], openingAt start: Int) -> Int? {
        var index = start + 1
        if index < scalars.count, scalars[index] == "/" || scalars[index] == "!" { index += 1 }
        guard index < scalars.count, scalars[index].isASCII, scalars[index].properties.isAlphabetic else { return nil }
        let limit = min(scalars.count, start + maximumTagLength)
        while index < limit {
            switch scalars[index] {
            case ">": return index
            case "<": return nil
            default: index += 1
            }
        }
        return nil
    }

    /// The `href` value of an `<a …>` tag's inside (`a href="…" class=…`), undecoded.
    private static func anchorHref(_ tag: String) -> String? {
        guard let first = tag.unicodeScalars.first, first == "a" || first == "A",
              tag.dropFirst().first?.isWhitespace == true,
              let name = tag.range(of: "href", options: .caseInsensitive)
        else { return nil }
        var rest = tag[name.upperBound...].drop(while: \.isWhitespace)
        guard rest.first == "=" else { return nil }
        rest = rest.dropFirst().drop(while: \.isWhitespace)
        let value: Substring
        if let quote = rest.first, quote == "\"" || quote == "'" {
            value = rest.dropFirst().prefix { $0 != quote }
        } else {
            value = rest.prefix { !$0.isWhitespace }
        }
        return value.isEmpty ? nil : String(value)
    }

    /// Named entities worth decoding in comment text.
    private static let namedEntities: [String: Unicode.Scalar] = [
        "quot": "\"", "amp": "&", "lt": "<", "gt": ">", "apos": "'", "nbsp": "\u{A0}",
    ]
    /// Longest entity between `&` and `;` that is decoded (`#x10FFFF`).
    private static let maximumEntityLength = 8

    /// `text` with `&quot; &amp; &lt; &gt; &apos; &nbsp;` and numeric entities (`&#39;`, `&#x27;`)
    /// decoded once; anything else that starts with `&` is left as it is.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if scalars[index] == "&", let (decoded, next) = entity(in: scalars, at: index) {
                result.append(decoded)
                index = next
            } else {
                result.append(scalars[index])
                index += 1
            }
        }
        return String(result)
    }

    /// The character of the entity starting at `start` and the index after its `;`.
    private static func entity(in scalars: [Unicode.Scalar], at start: Int) -> (Unicode.Scalar, Int)? {
        let nameStart = start + 1
        guard let semicolon = scalars[nameStart..<min(scalars.count, nameStart + maximumEntityLength + 1)].firstIndex(of: ";"),
              semicolon > nameStart
        else { return nil }
        let name = String(String.UnicodeScalarView(scalars[nameStart..<semicolon]))
        let decoded: Unicode.Scalar?
        if name.hasPrefix("#x") || name.hasPrefix("#X") {
            decoded = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
        } else if name.hasPrefix("#") {
            decoded = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init)
        } else {
            decoded = namedEntities[name]
        }
        guard let decoded, decoded != "\0" else { return nil }
        return (decoded, semicolon + 1)
    }
}
