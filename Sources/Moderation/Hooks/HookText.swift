import Comments
import Foundation

/// The text helpers the presets share: plain text out of a comment's HTML, excerpts, and the
/// escaping each chat service needs so that what a commenter wrote can neither format a
/// message nor notify a whole channel.
enum HookText {
    /// The plain text of rendered comment HTML: tags dropped (a block's end as a space),
    /// entities decoded, white space folded to single spaces.
    static func plain(html: String) -> String {
        var text = ""
        var tag: String?
        for character in html {
            if var open = tag {
                if character == ">" {
                    let name = open.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }.lowercased()
                    if blockTags.contains(name) { text += " " }
                    tag = nil
                } else {
                    open.append(character)
                    tag = open
                }
            } else if character == "<" {
                tag = ""
            } else {
                text.append(character)
            }
        }
        return folded(decodeEntities(text))
    }

    private static let blockTags: Set<String> = [
        "p", "br", "div", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "tr", "td", "th", "table",
    ]

    /// White space runs as single spaces, none at either end.
    static func folded(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// At most `limit` characters, cut at a word with `…` when it is longer.
    static func excerpt(_ text: String, limit: Int = 300) -> String {
        guard text.count > limit else { return text }
        let cut = text.prefix(limit - 1)
        let atWord = cut.lastIndex(of: " ").map { cut[..<$0] } ?? cut
        // A single long word is cut where it must be.
        let kept = atWord.count >= limit / 2 ? atWord : cut
        return kept.trimmingCharacters(in: .whitespaces) + "…"
    }

    /// At most `limit` characters, with `…` when cut (for the services' field limits).
    static func clipped(_ text: String, _ limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    private static let entities: [Substring: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ",
    ]

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semicolon = after.prefix(10).firstIndex(of: ";") {
                let name = after[..<semicolon]
                if let known = entities[name] {
                    out += known
                    rest = after[after.index(after: semicolon)...]
                    continue
                }
                if name.hasPrefix("#") {
                    let digits = name.dropFirst()
                    let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
                    if let value, let scalar = Unicode.Scalar(value) {
                        out.unicodeScalars.append(scalar)
                        rest = after[after.index(after: semicolon)...]
                        continue
                    }
                }
            }
            out += "&"
            rest = after
        }
        return out + rest
    }

    /// Slack's rule: `&`, `<` and `>` as entities, so `<!channel>` or `<@U123>` is shown, not acted on.
    static func slack(_ text: String) -> String {
        entities(text, quote: false)
    }

    /// Markdown (Mattermost, Discord): every special character backslash-escaped, and a word
    /// joiner after each `@` so `@channel`, `@here` or `@everyone` mentions nobody.
    static func markdown(_ text: String) -> String {
        var out = ""
        for character in text {
            if "\\`*_{}[]()#+-.!|~<>".contains(character) {
                out += "\\"
                out.append(character)
            } else if character == "@" {
                out += "@\u{2060}"
            } else if character == "\n" || character == "\r" {
                out += " "
            } else {
                out.append(character)
            }
        }
        return out
    }

    /// A word joiner after each `@`: `@room` or `@everyone` reads the same and mentions nobody.
    static func unmentioned(_ text: String) -> String {
        text.replacingOccurrences(of: "@", with: "@\u{2060}")
    }

    /// HTML text or attribute value (Telegram, Matrix).
    static func html(_ text: String) -> String {
        entities(text, quote: true)
    }

    /// `&`, `<`, `>` (and `"` when `quote`) as entities.
    private static func entities(_ text: String, quote: Bool) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where quote: out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A URL where a markdown link target or a Slack `<url|label>` ends: characters that would
    /// end the target early are percent-encoded.
    static func linkTarget(_ url: String) -> String {
        var out = ""
        for character in url {
            switch character {
            case " ": out += "%20"
            case "(": out += "%28"
            case ")": out += "%29"
            case "<": out += "%3C"
            case ">": out += "%3E"
            case "|": out += "%7C"
            default: out.append(character)
            }
        }
        return out
    }

    /// ISO 8601 in UTC with milliseconds: `2026-03-01T12:00:00.000Z`.
    static func iso(millis: Int64) -> String {
        let time = CivilTime(millis: millis)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let second = time.secondOfDay
        return "\(time.isoDate)T\(pad(second / 3600, 2)):\(pad(second / 60 % 60, 2)):\(pad(second % 60, 2)).\(pad(time.millisecond, 3))Z"
    }
}
