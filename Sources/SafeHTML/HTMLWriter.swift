// Every byte of HTML that Margin stores is written here. Markup comes only from the string
// literals below, for the elements and attributes the allow-list names; every byte that came from
// a user or an import goes through `text` or `url`, which escape it. The markdown renderer and the
// sanitiser only say which element to open or close, so neither can emit a tag of its own.

/// Escapes text for HTML element content and double-quoted attribute values (& < > " ').
public func escapeHTML(_ text: String) -> String {
    var needsEscaping = false
    for byte in text.utf8 where ASCII.isHTMLSpecial(byte) {
        needsEscaping = true
        break
    }
    guard needsEscaping else { return text }
    var out = HTMLWriter()
    out.text(Array(text.utf8)[...])
    return String(decoding: out.bytes, as: UTF8.self)
}

/// Accumulates safe HTML as UTF-8, in one layout: blocks on lines of their own, `<br>` followed by
/// a newline, one escaping.
struct HTMLWriter {
    /// The block elements of Margin's HTML.
    enum BlockElement: Equatable {
        case paragraph
        case preformatted
        case quote
        /// `start` (markdown only) becomes a `start` attribute unless it is 1.
        case list(ordered: Bool, start: Int = 1)
        case item
    }

    /// The inline elements of Margin's HTML.
    enum InlineElement: Equatable {
        case emphasis
        case strong
        /// `language` (markdown's fenced code only) becomes `class="language-…"`.
        case code(language: [UInt8]? = nil)
        /// `href` must have passed `URLPolicy`; `title` is markdown's link title.
        case link(href: [UInt8], title: [UInt8]? = nil)
    }

    private(set) var bytes: [UInt8] = []

    /// Opens a block on a line of its own.
    mutating func open(_ block: BlockElement) {
        newline()
        switch block {
        case .paragraph: raw("<p>")
        case .preformatted: raw("<pre>")
        case .quote:
            raw("<blockquote>")
            newline()
        case .list(let ordered, let start):
            if !ordered {
                raw("<ul>")
            } else if start == 1 {
                raw("<ol>")
            } else {
                raw("<ol start=\"")
                bytes.append(contentsOf: String(start).utf8)
                raw("\">")
            }
            newline()
        case .item: raw("<li>")
        }
    }

    /// Closes a block and ends its line.
    mutating func close(_ block: BlockElement) {
        switch block {
        case .paragraph: raw("</p>")
        case .preformatted: raw("</pre>")
        case .quote:
            newline()
            raw("</blockquote>")
        case .list(let ordered, _):
            newline()
            raw(ordered ? "</ol>" : "</ul>")
        case .item: raw("</li>")
        }
        newline()
    }

    /// Opens an inline element.
    mutating func open(_ inline: InlineElement) {
        switch inline {
        case .emphasis: raw("<em>")
        case .strong: raw("<strong>")
        case .code(let language):
            guard let language else {
                raw("<code>")
                return
            }
            raw("<code class=\"language-")
            text(language[...])
            raw("\">")
        case .link(let href, let title):
            raw("<a href=\"")
            url(href[...])
            if let title {
                raw("\" title=\"")
                text(title[...])
            }
            raw("\" rel=\"nofollow ugc noopener\">")
        }
    }

    /// Closes an inline element.
    mutating func close(_ inline: InlineElement) {
        switch inline {
        case .emphasis: raw("</em>")
        case .strong: raw("</strong>")
        case .code: raw("</code>")
        case .link: raw("</a>")
        }
    }

    /// A line break: `<br>` and a newline.
    mutating func lineBreak() {
        raw("<br>\n")
    }

    /// Escaped text, valid in element content and in double- or single-quoted attribute values.
    mutating func text(_ source: ArraySlice<UInt8>) {
        // Most text has nothing to escape: copy it in one go.
        guard source.contains(where: ASCII.isHTMLSpecial) else {
            bytes.append(contentsOf: source)
            return
        }
        for byte in source {
            switch byte {
            case ASCII.ampersand: raw("&amp;")
            case ASCII.lessThan: raw("&lt;")
            case ASCII.greaterThan: raw("&gt;")
            case ASCII.quote: raw("&quot;")
            case ASCII.apostrophe: raw("&#39;")
            default: bytes.append(byte)
            }
        }
    }

    /// An href value: spaces and control characters percent-encoded, then escaped like text.
    private mutating func url(_ source: ArraySlice<UInt8>) {
        text(URLPolicy.percentEncodingControls(source)[...])
    }

    /// The output as a string, without the trailing newline of the last block.
    mutating func finish() -> String {
        while bytes.last == ASCII.lineFeed {
            bytes.removeLast()
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends fixed markup; only ever called with the literals above.
    private mutating func raw(_ markup: StaticString) {
        markup.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Starts a new output line unless already at the start of one, as cmark does between blocks.
    private mutating func newline() {
        if let last = bytes.last, last != ASCII.lineFeed {
            bytes.append(ASCII.lineFeed)
        }
    }
}
