// The comment markdown subset, rendered once at write time into HTML that is safe to embed as is.
//
// Safety comes from construction, not filtering: the renderer emits only a fixed set of tags and
// attributes from string literals, and every byte that came from the user goes through
// `HTMLWriter.text` or `HTMLWriter.url`, which escape it. Raw HTML in the input is never parsed as
// HTML, so it always ends up as escaped text.
//
// The parser works on the source's UTF-8 bytes. Every markdown syntax character is ASCII and a
// multi-byte scalar contains no ASCII bytes, so slicing at syntax characters never splits a scalar
// and the output contains the user's text byte for byte (no normalisation, no grapheme surgery).

/// Renders the comment markdown subset into safe HTML, once, at write time.
///
/// Blocks: paragraphs (single newlines become `<br>`), fenced code (```` ``` ```` / `~~~`) and
/// indented code, block quotes, bullet and ordered lists with nesting. Headings, thematic breaks,
/// tables, images and raw HTML are not supported; such lines render as paragraph text.
/// Inlines: code spans, `*em*` / `_em_`, `**strong**` / `__strong__`, `[text](url "title")`,
/// `<scheme:…>` and `<a@b.c>` autolinks, bare `http(s)://` URLs, backslash escapes, line breaks.
/// Entity references are not decoded: `&copy;` shows as typed.
public enum Markdown {
    /// Block quotes and list items nested deeper than this render as paragraph text.
    static let maxBlockDepth = 16
    /// Emphasis nested deeper than this keeps its literal `*` / `_` instead of emitting tags.
    static let maxInlineDepth = 16

    /// Markdown source → sanitised HTML fragment.
    public static func render(_ source: String) -> String {
        let parser = BlockParser(SourceText(source))
        var out = HTMLWriter()
        out.blocks(parser.parseDocument(), tight: false)
        return out.finish()
    }
}

/// Escapes text for HTML element content and double-quoted attribute values (& < > " ').
public func escapeHTML(_ text: String) -> String {
    var needsEscaping = false
    for byte in text.utf8 where Markdown.Byte.isHTMLSpecial(byte) {
        needsEscaping = true
        break
    }
    guard needsEscaping else { return text }
    var out = Markdown.HTMLWriter()
    out.text(Array(text.utf8)[...])
    return String(decoding: out.bytes, as: UTF8.self)
}

// MARK: - Bytes and characters

extension Markdown {
    /// ASCII byte constants and the character classes the parser needs.
    fileprivate enum Byte {
        static let tab: UInt8 = 0x09
        static let lineFeed: UInt8 = 0x0A
        static let carriageReturn: UInt8 = 0x0D
        static let space: UInt8 = 0x20
        static let quote: UInt8 = 0x22
        static let ampersand: UInt8 = 0x26
        static let apostrophe: UInt8 = 0x27
        static let leftParen: UInt8 = 0x28
        static let rightParen: UInt8 = 0x29
        static let star: UInt8 = 0x2A
        static let plus: UInt8 = 0x2B
        static let comma: UInt8 = 0x2C
        static let dash: UInt8 = 0x2D
        static let dot: UInt8 = 0x2E
        static let slash: UInt8 = 0x2F
        static let colon: UInt8 = 0x3A
        static let semicolon: UInt8 = 0x3B
        static let lessThan: UInt8 = 0x3C
        static let greaterThan: UInt8 = 0x3E
        static let question: UInt8 = 0x3F
        static let at: UInt8 = 0x40
        static let leftBracket: UInt8 = 0x5B
        static let backslash: UInt8 = 0x5C
        static let rightBracket: UInt8 = 0x5D
        static let underscore: UInt8 = 0x5F
        static let backtick: UInt8 = 0x60
        static let tilde: UInt8 = 0x7E
        static let exclamation: UInt8 = 0x21
        static let hash: UInt8 = 0x23
        static let delete: UInt8 = 0x7F

        static func isSpaceOrTab(_ b: UInt8) -> Bool { b == space || b == tab }
        static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
        static func isAlphanumeric(_ b: UInt8) -> Bool { isDigit(b) || isLetter(b) }
        static func lowercased(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }
        static func isHTMLSpecial(_ b: UInt8) -> Bool {
            b == ampersand || b == lessThan || b == greaterThan || b == quote || b == apostrophe
        }

        /// CommonMark's ASCII punctuation: the characters a backslash can escape.
        static func isASCIIPunctuation(_ b: UInt8) -> Bool {
            (b >= 0x21 && b <= 0x2F) || (b >= 0x3A && b <= 0x40) || (b >= 0x5B && b <= 0x60) || (b >= 0x7B && b <= 0x7E)
        }

        /// Characters allowed in a fenced code block's language name, which becomes a class attribute.
        static func isLanguageName(_ b: UInt8) -> Bool {
            isAlphanumeric(b) || b == underscore || b == plus || b == dash
        }

        /// Characters of a URI scheme after its first letter.
        static func isSchemeTail(_ b: UInt8) -> Bool {
            isAlphanumeric(b) || b == plus || b == dot || b == dash
        }

        /// Characters of an email autolink's local part (CommonMark's definition, from HTML5).
        static func isEmailLocal(_ b: UInt8) -> Bool {
            if isAlphanumeric(b) { return true }
            switch b {
            case dot, exclamation, hash, 0x24, 0x25, ampersand, apostrophe, star, plus, slash, 0x3D, question,
                0x5E, underscore, backtick, 0x7B, 0x7C, 0x7D, tilde, dash:
                return true
            default:
                return false
            }
        }
    }
}

extension Markdown {
    /// Unicode character classes for emphasis flanking rules.
    fileprivate enum Scalars {
        /// Decodes the scalar starting at `index`; malformed input (never produced by `String`) yields U+FFFD.
        static func scalar(in bytes: [UInt8], at index: Int) -> Unicode.Scalar {
            let lead = bytes[index]
            if lead < 0x80 { return Unicode.Scalar(lead) }
            let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
            guard index + length <= bytes.count else { return "\u{FFFD}" }
            var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for offset in 1..<length {
                value = value << 6 | (UInt32(bytes[index + offset]) & 0x3F)
            }
            return Unicode.Scalar(value) ?? "\u{FFFD}"
        }

        /// The scalar ending just before `index`, or nil at the start.
        static func scalar(in bytes: [UInt8], before index: Int) -> Unicode.Scalar? {
            guard index > 0 else { return nil }
            var start = index - 1
            while start > 0, index - start < 4, bytes[start] & 0xC0 == 0x80 {
                start -= 1
            }
            return scalar(in: bytes, at: start)
        }

        static func isWhitespace(_ scalar: Unicode.Scalar?) -> Bool {
            guard let scalar else { return true }
            switch scalar.value {
            case 0x09, 0x0A, 0x0C, 0x0D, 0x20: return true
            default: return scalar.value > 0x7F && scalar.properties.generalCategory == .spaceSeparator
            }
        }

        static func isPunctuation(_ scalar: Unicode.Scalar?) -> Bool {
            guard let scalar else { return false }
            if scalar.value < 0x80 { return Byte.isASCIIPunctuation(UInt8(scalar.value)) }
            switch scalar.properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                .initialPunctuation, .finalPunctuation, .otherPunctuation,
                .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
                return true
            default:
                return false
            }
        }
    }
}

extension Markdown {
    /// The link allow-list (the HTML sanitiser applies the same one).
    enum URLPolicy {
        private static let mailto: [UInt8] = Array("mailto".utf8)
        private static let allowedSchemes: [[UInt8]] = [Array("http".utf8), Array("https".utf8), mailto]
        private static let forbidden: [[UInt8]] = [
            Array("javascript:".utf8), Array("vbscript:".utf8), Array("data:".utf8),
        ]
        /// Named references that can spell out URL syntax; numeric references are decoded generally.
        private static let namedReferences: [[UInt8]: UInt8] = [
            Array("amp".utf8): Byte.ampersand, Array("lt".utf8): Byte.lessThan, Array("gt".utf8): Byte.greaterThan,
            Array("quot".utf8): Byte.quote, Array("apos".utf8): Byte.apostrophe, Array("colon".utf8): Byte.colon,
            Array("tab".utf8): Byte.tab, Array("newline".utf8): Byte.lineFeed, Array("sol".utf8): Byte.slash,
            Array("num".utf8): Byte.hash, Array("quest".utf8): Byte.question, Array("lpar".utf8): Byte.leftParen,
            Array("rpar".utf8): Byte.rightParen, Array("period".utf8): Byte.dot, Array("comma".utf8): Byte.comma,
        ]

        /// Whether `url` may become an href.
        ///
        /// The renderer never decodes entities and always escapes `&`, so the browser's attribute
        /// decoding hands back exactly `url`. The check runs on that string, and again after entity
        /// decoding and after percent decoding, so no later consumer that decodes once can turn it
        /// into a script URL. Each form is read as a browser would: bytes <= 0x20 removed (browsers
        /// strip or ignore them), ASCII lowercased. A `:` before any `/`, `?` or `#` makes the prefix
        /// a scheme, which must be `http://`, `https://` or `mailto:`; otherwise it is a relative URL.
        /// Script-capable scheme names anywhere reject the URL outright, as defence in depth.
        static func allows(_ url: [UInt8]) -> Bool {
            let plain = normalized(url)
            return !plain.isEmpty
                && isAllowed(plain)
                && isAllowed(normalized(decodingCharacterReferences(url)))
                && isAllowed(normalized(decodingPercentEscapes(url)))
        }

        private static func normalized(_ url: [UInt8]) -> [UInt8] {
            var result: [UInt8] = []
            result.reserveCapacity(url.count)
            for byte in url where byte > Byte.space && byte != Byte.delete {
                result.append(Byte.lowercased(byte))
            }
            return result
        }

        private static func isAllowed(_ url: [UInt8]) -> Bool {
            for word in forbidden where contains(url, word) {
                return false
            }
            for (index, byte) in url.enumerated() {
                switch byte {
                case Byte.slash, Byte.question, Byte.hash:
                    return true
                case Byte.colon:
                    let scheme = Array(url[..<index])
                    guard allowedSchemes.contains(scheme) else { return false }
                    // `http:foo` is legal but odd; requiring `//` keeps every web href absolute and obvious.
                    return scheme == mailto || url[(index + 1)...].starts(with: [Byte.slash, Byte.slash])
                default:
                    continue
                }
            }
            return true
        }

        /// `&#NN;`, `&#xHH;` (semicolon optional, as browsers accept) and the named references above.
        /// Only ASCII matters to the check, so other scalars decode to a placeholder byte.
        private static func decodingCharacterReferences(_ url: [UInt8]) -> [UInt8] {
            var result: [UInt8] = []
            var index = 0
            while index < url.count {
                guard url[index] == Byte.ampersand else {
                    result.append(url[index])
                    index += 1
                    continue
                }
                var end = index + 1
                var decoded: UInt32?
                if end < url.count, url[end] == Byte.hash {
                    end += 1
                    let hex = end < url.count && (url[end] | 0x20) == 0x78  // x
                    if hex { end += 1 }
                    let digitsStart = end
                    var value: UInt32 = 0
                    while end < url.count, end - digitsStart < 8 {
                        let byte = url[end]
                        let digit: UInt32
                        if Byte.isDigit(byte) {
                            digit = UInt32(byte - 0x30)
                        } else if hex, (byte | 0x20) >= 0x61, (byte | 0x20) <= 0x66 {
                            digit = UInt32((byte | 0x20) - 0x61 + 10)
                        } else {
                            break
                        }
                        value = value * (hex ? 16 : 10) + digit
                        end += 1
                    }
                    if end > digitsStart { decoded = value }
                } else {
                    while end < url.count, end - index <= 8, Byte.isLetter(url[end]) {
                        end += 1
                    }
                    let name = url[(index + 1)..<end].map(Byte.lowercased)
                    if end < url.count, url[end] == Byte.semicolon, let byte = namedReferences[name] {
                        decoded = UInt32(byte)
                    }
                }
                guard let decoded else {
                    result.append(url[index])
                    index += 1
                    continue
                }
                result.append(decoded < 0x80 ? UInt8(decoded) : 0x80)
                index = end < url.count && url[end] == Byte.semicolon ? end + 1 : end
            }
            return result
        }

        private static func decodingPercentEscapes(_ url: [UInt8]) -> [UInt8] {
            func hexValue(_ byte: UInt8) -> UInt8? {
                if Byte.isDigit(byte) { return byte - 0x30 }
                let lower = byte | 0x20
                return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : nil
            }
            var result: [UInt8] = []
            var index = 0
            while index < url.count {
                if url[index] == 0x25, index + 2 < url.count, let high = hexValue(url[index + 1]),
                    let low = hexValue(url[index + 2])
                {
                    result.append(high << 4 | low)
                    index += 3
                } else {
                    result.append(url[index])
                    index += 1
                }
            }
            return result
        }

        private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
            guard haystack.count >= needle.count else { return false }
            for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
                var match = true
                for offset in 1..<needle.count where haystack[start + offset] != needle[offset] {
                    match = false
                    break
                }
                if match { return true }
            }
            return false
        }
    }
}

// MARK: - Output

extension Markdown {
    /// Accumulates the HTML as UTF-8. Markup comes only from string literals; user bytes go through
    /// `text` or `url`, which escape them.
    fileprivate struct HTMLWriter {
        private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []

        /// Appends fixed markup; only ever called with literals.
        mutating func raw(_ markup: StaticString) {
            markup.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        /// Escaped text, valid in element content and in double- or single-quoted attribute values.
        mutating func text(_ source: ArraySlice<UInt8>) {
            for byte in source {
                append(escaping: byte)
            }
        }

        /// An href value: escaped like text, and with spaces and control characters percent-encoded
        /// (a pointy-bracket destination may contain them) so the browser sees exactly this URL.
        mutating func url(_ source: ArraySlice<UInt8>) {
            for byte in source {
                if byte <= Byte.space || byte == Byte.delete {
                    bytes.append(0x25)
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0x0F)])
                } else {
                    append(escaping: byte)
                }
            }
        }

        /// Starts a new output line unless already at the start of one, as cmark does between blocks.
        mutating func newline() {
            if let last = bytes.last, last != Byte.lineFeed {
                bytes.append(Byte.lineFeed)
            }
        }

        private mutating func append(escaping byte: UInt8) {
            switch byte {
            case Byte.ampersand: raw("&amp;")
            case Byte.lessThan: raw("&lt;")
            case Byte.greaterThan: raw("&gt;")
            case Byte.quote: raw("&quot;")
            case Byte.apostrophe: raw("&#39;")
            default: bytes.append(byte)
            }
        }

        /// The output as a string, without the trailing newline of the last block.
        mutating func finish() -> String {
            while bytes.last == Byte.lineFeed {
                bytes.removeLast()
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        /// Renders blocks; in a tight list, paragraphs lose their `<p>` as in CommonMark.
        mutating func blocks(_ blocks: [Block], tight: Bool) {
            for block in blocks {
                switch block {
                case .paragraph(let source):
                    if tight {
                        InlineParser(source).render(into: &self)
                    } else {
                        newline()
                        raw("<p>")
                        InlineParser(source).render(into: &self)
                        raw("</p>")
                        newline()
                    }
                case .code(let language, let body):
                    newline()
                    raw("<pre><code")
                    if let language {
                        raw(" class=\"language-")
                        text(language[...])
                        raw("\"")
                    }
                    raw(">")
                    text(body[...])
                    raw("</code></pre>")
                    newline()
                case .quote(let children):
                    newline()
                    raw("<blockquote>")
                    newline()
                    self.blocks(children, tight: false)
                    newline()
                    raw("</blockquote>")
                    newline()
                case .list(let list):
                    newline()
                    if list.ordered {
                        if list.start == 1 {
                            raw("<ol>")
                        } else {
                            raw("<ol start=\"")
                            bytes.append(contentsOf: String(list.start).utf8)
                            raw("\">")
                        }
                    } else {
                        raw("<ul>")
                    }
                    newline()
                    for item in list.items {
                        raw("<li>")
                        self.blocks(item, tight: list.tight)
                        raw("</li>")
                        newline()
                    }
                    raw(list.ordered ? "</ol>" : "</ul>")
                    newline()
                }
            }
        }
    }
}

// MARK: - Blocks

extension Markdown {
    /// A parsed block. Container nesting is bounded by `Markdown.maxBlockDepth`.
    fileprivate enum Block {
        /// Inline source: the paragraph's lines, trimmed, joined with LF.
        case paragraph([UInt8])
        case code(language: [UInt8]?, body: [UInt8])
        case quote([Block])
        case list(ListBlock)
    }
}

extension Markdown {
    /// A bullet or ordered list and its items' blocks.
    fileprivate struct ListBlock {
        let ordered: Bool
        let start: Int
        let tight: Bool
        let items: [[Block]]
    }
}

extension Markdown {
    /// The normalised source as UTF-8 bytes, split into lines.
    fileprivate struct SourceText {
        /// Source bytes with NUL replaced by U+FFFD and CR / CRLF folded to LF.
        let bytes: [UInt8]
        /// Each line, unstripped, with where its leading whitespace ends.
        let lines: [Line]

        /// Normalises the source and splits it into lines.
        init(_ source: String) {
            var bytes = Array(source.utf8)
            let needsNormalizing = bytes.withUnsafeBufferPointer { bytes in
                var index = 0
                while index < bytes.count, bytes[index] != 0, bytes[index] != Byte.carriageReturn {
                    index += 1
                }
                return index < bytes.count
            }
            if needsNormalizing {
                bytes = Self.normalized(bytes)
            }
            var lines: [Line] = []
            // Unsafe buffers because this is the only pass over every byte of a document that may be
            // far longer than a comment, and it should stay fast in debug builds too.
            bytes.withUnsafeBufferPointer { bytes in
                var start = 0
                while start <= bytes.count {
                    var index = start
                    var column = 0
                    while index < bytes.count {
                        let byte = bytes[index]
                        if byte == Byte.space {
                            column += 1
                        } else if byte == Byte.tab {
                            column += 4 - column % 4
                        } else {
                            break
                        }
                        index += 1
                    }
                    let indentEnd = index
                    while index < bytes.count, bytes[index] != Byte.lineFeed {
                        index += 1
                    }
                    // A final LF ends the last line; it does not start an empty one.
                    if index < bytes.count || start < bytes.count {
                        lines.append(Line(position: start, end: index, indentEnd: indentEnd, indentEndColumn: column))
                    }
                    start = index + 1
                }
            }
            self.bytes = bytes
            self.lines = lines
        }

        /// NUL becomes U+FFFD; CR and CRLF become LF.
        private static func normalized(_ input: [UInt8]) -> [UInt8] {
            var output: [UInt8] = []
            output.reserveCapacity(input.count + 16)
            var afterCarriageReturn = false
            for byte in input {
                switch byte {
                case 0:
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                case Byte.carriageReturn:
                    output.append(Byte.lineFeed)
                case Byte.lineFeed where afterCarriageReturn:
                    break
                default:
                    output.append(byte)
                }
                afterCarriageReturn = byte == Byte.carriageReturn
            }
            return output
        }
    }
}

extension Markdown {
    /// One source line with the prefixes of its enclosing containers (`>` markers, list indentation)
    /// stripped. Prefixes are ASCII, so columns are byte offsets except where tabs expand to the next
    /// multiple of 4; `indentEnd` lets every depth find the end of the raw line's leading whitespace
    /// without rescanning it, which keeps deep nesting linear.
    fileprivate struct Line {
        var position: Int
        let end: Int
        /// First byte of the raw line that is not a space or tab, and its column.
        let indentEnd: Int
        let indentEndColumn: Int
        /// Column of `position` in the raw line.
        var column = 0
        /// Columns left over from a tab that a container prefix only partly consumed; they count
        /// as spaces before `position`.
        var virtualSpaces = 0
        /// A lazy continuation line: it continues the innermost open paragraph, whatever it looks like.
        var isLazy = false

        init(position: Int, end: Int, indentEnd: Int, indentEndColumn: Int) {
            self.position = position
            self.end = end
            self.indentEnd = indentEnd
            self.indentEndColumn = indentEndColumn
        }
    }
}

extension Markdown {
    /// A fenced code block's opening fence.
    fileprivate struct Fence {
        let marker: UInt8
        let length: Int
        let indent: Int
        let language: [UInt8]?
    }
}

extension Markdown {
    /// A list item's marker, as found at the start of a line.
    fileprivate struct ListMarker {
        let ordered: Bool
        /// The bullet character, or the `.` / `)` after an ordinal; items of one list share it.
        let delimiter: UInt8
        let start: Int
        /// Columns a continuation line must be indented to belong to the item.
        let contentIndent: Int
        /// The first line with the marker stripped.
        let content: Line
        let isEmpty: Bool
    }
}

extension Markdown {
    /// Splits lines into blocks, recursing into containers up to `Markdown.maxBlockDepth`.
    fileprivate struct BlockParser {
        let source: SourceText

        /// A parser over `source`.
        init(_ source: SourceText) {
            self.source = source
        }

        /// Parses the whole document into blocks.
        func parseDocument() -> [Block] {
            parseBlocks(source.lines, depth: 0).blocks
        }

        // MARK: Line queries

        /// The first byte at or after the line's position that is not a space or tab (or the line's
        /// end), and its column.
        private func firstNonSpace(_ line: Line) -> (index: Int, column: Int) {
            if line.position <= line.indentEnd { return (line.indentEnd, line.indentEndColumn) }
            return skipSpaces(from: line.position, column: line.column, end: line.end)
        }

        private func skipSpaces(from start: Int, column startColumn: Int, end: Int) -> (index: Int, column: Int) {
            var index = start
            var column = startColumn
            while index < end {
                let byte = source.bytes[index]
                if byte == Byte.space {
                    column += 1
                } else if byte == Byte.tab {
                    column += 4 - column % 4
                } else {
                    break
                }
                index += 1
            }
            return (index, column)
        }

        private func isBlank(_ line: Line) -> Bool { firstNonSpace(line).index >= line.end }

        /// Leading whitespace of the line, in columns.
        private func indent(_ line: Line) -> Int {
            line.virtualSpaces + firstNonSpace(line).column - line.column
        }

        /// Consumes up to `columns` columns of leading whitespace, splitting a tab if needed.
        private func advance(_ line: inout Line, columns: Int) {
            var remaining = columns
            let fromVirtual = min(remaining, line.virtualSpaces)
            line.virtualSpaces -= fromVirtual
            remaining -= fromVirtual
            while remaining > 0, line.position < line.end {
                let byte = source.bytes[line.position]
                if byte == Byte.space {
                    line.position += 1
                    line.column += 1
                    remaining -= 1
                } else if byte == Byte.tab {
                    let width = 4 - line.column % 4
                    line.position += 1
                    line.column += width
                    if width > remaining {
                        line.virtualSpaces = width - remaining
                        remaining = 0
                    } else {
                        remaining -= width
                    }
                } else {
                    break
                }
            }
        }

        /// The line from byte `index` on, which lies `offset` columns past its first non-space byte
        /// (a container marker was skipped).
        private func line(_ line: Line, from index: Int, offset: Int) -> Line {
            var rest = line
            rest.column = firstNonSpace(line).column + offset
            rest.position = index
            rest.virtualSpaces = 0
            return rest
        }

        private func appendContent(of line: Line, to buffer: inout [UInt8]) {
            for _ in 0..<line.virtualSpaces {
                buffer.append(Byte.space)
            }
            buffer.append(contentsOf: source.bytes[line.position..<line.end])
        }

        private func isQuoteStart(_ line: Line) -> Bool {
            let first = firstNonSpace(line).index
            return first < line.end && indent(line) <= 3 && source.bytes[first] == Byte.greaterThan
        }

        /// `***`, `- - -`, `___`: no `<hr>` in comments, but such a line must not become a list.
        private func isThematicBreak(_ line: Line) -> Bool {
            let first = firstNonSpace(line).index
            guard first < line.end, indent(line) <= 3 else { return false }
            let marker = source.bytes[first]
            guard marker == Byte.dash || marker == Byte.star || marker == Byte.underscore else { return false }
            var count = 0
            for byte in source.bytes[first..<line.end] {
                if byte == marker {
                    count += 1
                } else if !Byte.isSpaceOrTab(byte) {
                    return false
                }
            }
            return count >= 3
        }

        private func fenceOpening(_ line: Line) -> Fence? {
            let bytes = source.bytes
            let first = firstNonSpace(line).index
            guard first < line.end, indent(line) <= 3 else { return nil }
            let marker = bytes[first]
            guard marker == Byte.backtick || marker == Byte.tilde else { return nil }
            var end = first
            while end < line.end, bytes[end] == marker {
                end += 1
            }
            guard end - first >= 3 else { return nil }
            if marker == Byte.backtick, bytes[end..<line.end].contains(Byte.backtick) { return nil }
            let infoStart = skipSpaces(from: end, column: 0, end: line.end).index
            var infoEnd = infoStart
            while infoEnd < line.end, !Byte.isSpaceOrTab(bytes[infoEnd]) {
                infoEnd += 1
            }
            let word = bytes[infoStart..<infoEnd]
            let language = !word.isEmpty && word.allSatisfy(Byte.isLanguageName) ? Array(word) : nil
            return Fence(marker: marker, length: end - first, indent: indent(line), language: language)
        }

        private func isFenceClosing(_ line: Line, for fence: Fence) -> Bool {
            let first = firstNonSpace(line).index
            guard first < line.end, indent(line) <= 3 else { return false }
            var end = first
            while end < line.end, source.bytes[end] == fence.marker {
                end += 1
            }
            return end - first >= fence.length && skipSpaces(from: end, column: 0, end: line.end).index >= line.end
        }

        private func listMarker(_ line: Line) -> ListMarker? {
            let bytes = source.bytes
            let first = firstNonSpace(line).index
            let lineIndent = indent(line)
            guard first < line.end, lineIndent <= 3 else { return nil }
            var end = first
            var ordered = false
            var start = 1
            let delimiter: UInt8
            let lead = bytes[first]
            if lead == Byte.dash || lead == Byte.star || lead == Byte.plus {
                delimiter = lead
                end += 1
            } else if Byte.isDigit(lead) {
                var value = 0
                // At most nine digits, as in CommonMark, so the value always fits.
                while end < line.end, end - first < 9, Byte.isDigit(bytes[end]) {
                    value = value * 10 + Int(bytes[end] - 0x30)
                    end += 1
                }
                guard end < line.end, bytes[end] == Byte.dot || bytes[end] == Byte.rightParen else { return nil }
                delimiter = bytes[end]
                end += 1
                ordered = true
                start = value
            } else {
                return nil
            }
            guard end == line.end || Byte.isSpaceOrTab(bytes[end]) else { return nil }
            let width = end - first
            var content = self.line(line, from: end, offset: width)
            if isBlank(content) {
                content.position = line.end
                return ListMarker(ordered: ordered, delimiter: delimiter, start: start,
                                  contentIndent: lineIndent + width + 1, content: content, isEmpty: true)
            }
            let gap = indent(content)
            // Five or more spaces after the marker: the content is indented code one column in.
            let consumed = gap >= 5 ? 1 : gap
            advance(&content, columns: consumed)
            return ListMarker(ordered: ordered, delimiter: delimiter, start: start,
                              contentIndent: lineIndent + width + consumed, content: content, isEmpty: false)
        }

        /// Whether the line ends a paragraph that it follows, rather than continuing it.
        private func interruptsParagraph(_ line: Line, depth: Int) -> Bool {
            guard indent(line) <= 3 else { return false }
            if fenceOpening(line) != nil { return true }
            guard depth < Markdown.maxBlockDepth else { return false }
            if isQuoteStart(line) { return true }
            if !isThematicBreak(line), let marker = listMarker(line) {
                return !marker.isEmpty && (!marker.ordered || marker.start == 1)
            }
            return false
        }

        /// Whether the line would start a block in the enclosing container, which stops it from being
        /// a lazy continuation line. Unlike `interruptsParagraph`, any list marker counts: outside the
        /// paragraph, `2.` and empty items start lists too.
        private func startsBlock(_ line: Line) -> Bool {
            guard indent(line) <= 3 else { return false }
            return fenceOpening(line) != nil || isQuoteStart(line) || isThematicBreak(line) || listMarker(line) != nil
        }

        /// Where a container's paragraph stands after a line: closed, open directly in the container,
        /// or open inside a nested container, where only lazy continuation lines can reach it.
        private enum OpenParagraph {
            case none, direct, nested
        }

        /// The paragraph state after `line`, given the state before it. Nested containers are followed
        /// through their markers; fences inside them are not tracked across lines (the caller tracks
        /// fences at its own level).
        private func paragraphState(after line: Line, before state: OpenParagraph, depth: Int) -> OpenParagraph {
            if isBlank(line) { return .none }
            if line.isLazy { return state }
            switch state {
            case .direct where !interruptsParagraph(line, depth: depth): return .direct
            case .nested where !startsBlock(line): return .nested
            default: break
            }
            if indent(line) >= 4 || fenceOpening(line) != nil { return .none }
            guard depth < Markdown.maxBlockDepth else { return .direct }
            if isQuoteStart(line) {
                let inner = paragraphState(after: stripQuoteMarker(line), before: state == .nested ? .nested : .none,
                                           depth: depth + 1)
                return inner == .none ? .none : .nested
            }
            if !isThematicBreak(line), let marker = listMarker(line) {
                guard !marker.isEmpty else { return .none }
                return paragraphState(after: marker.content, before: .none, depth: depth + 1) == .none ? .none : .nested
            }
            return .direct
        }

        /// The line after its `>` and one optional column of whitespace.
        private func stripQuoteMarker(_ line: Line) -> Line {
            var stripped = self.line(line, from: firstNonSpace(line).index + 1, offset: 1)
            if stripped.position < stripped.end, Byte.isSpaceOrTab(source.bytes[stripped.position]) {
                advance(&stripped, columns: 1)
            }
            return stripped
        }

        /// What is open at a container's own level while it collects its lines; decides which
        /// following lines may continue it lazily.
        private struct OpenBlocks {
            var paragraph = OpenParagraph.none
            var fence: Fence?
        }

        /// Updates `open` for a line added to a container whose content is at `depth`.
        private func track(_ line: Line, in open: inout OpenBlocks, depth: Int) {
            if let fence = open.fence {
                if isFenceClosing(line, for: fence) { open.fence = nil }
                open.paragraph = .none
            } else if !line.isLazy, let fence = fenceOpening(line) {
                open.fence = fence
                open.paragraph = .none
            } else {
                open.paragraph = paragraphState(after: line, before: open.paragraph, depth: depth)
            }
        }

        /// Whether `line` may be added to a container as a lazy continuation line.
        private func continuesLazily(_ line: Line, _ open: OpenBlocks) -> Bool {
            line.isLazy || (open.paragraph != .none && open.fence == nil && !isBlank(line) && !startsBlock(line))
        }

        // MARK: Block structure

        /// Parses a container's lines. `blankBetween` reports a blank line between two of its blocks,
        /// which makes an enclosing list item loose.
        private func parseBlocks(_ lines: [Line], depth: Int) -> (blocks: [Block], blankBetween: Bool) {
            var blocks: [Block] = []
            var index = 0
            var pendingBlank = false
            var blankBetween = false
            while index < lines.count {
                let line = lines[index]
                if isBlank(line) {
                    pendingBlank = !blocks.isEmpty
                    index += 1
                    continue
                }
                if pendingBlank {
                    blankBetween = true
                    pendingBlank = false
                }
                let block: Block
                if line.isLazy {
                    (block, index) = paragraph(lines, from: index, depth: depth)
                } else if indent(line) >= 4 {
                    (block, index) = indentedCode(lines, from: index)
                } else if let fence = fenceOpening(line) {
                    (block, index) = fencedCode(lines, from: index, fence: fence)
                } else if depth < Markdown.maxBlockDepth, isQuoteStart(line) {
                    (block, index) = blockQuote(lines, from: index, depth: depth)
                } else if depth < Markdown.maxBlockDepth, !isThematicBreak(line), let marker = listMarker(line) {
                    (block, index) = list(lines, from: index, first: marker, depth: depth)
                } else {
                    (block, index) = paragraph(lines, from: index, depth: depth)
                }
                blocks.append(block)
            }
            return (blocks, blankBetween)
        }

        /// Lines indented 4+ columns (blank lines allowed between them); trailing blank lines are left out.
        private func indentedCode(_ lines: [Line], from start: Int) -> (Block, Int) {
            var index = start
            var end = start
            while index < lines.count {
                if !isBlank(lines[index]) {
                    guard indent(lines[index]) >= 4 else { break }
                    end = index + 1
                }
                index += 1
            }
            // Trailing blank lines are left to the enclosing container.
            var body: [UInt8] = []
            for var line in lines[start..<end] {
                advance(&line, columns: 4)
                appendContent(of: line, to: &body)
                body.append(Byte.lineFeed)
            }
            return (.code(language: nil, body: body), end)
        }

        /// From an opening fence to a matching closing fence or the end of the container.
        private func fencedCode(_ lines: [Line], from start: Int, fence: Fence) -> (Block, Int) {
            var body: [UInt8] = []
            var index = start + 1
            while index < lines.count {
                var line = lines[index]
                index += 1
                if isFenceClosing(line, for: fence) { break }
                advance(&line, columns: fence.indent)
                appendContent(of: line, to: &body)
                body.append(Byte.lineFeed)
            }
            return (.code(language: fence.language, body: body), index)
        }

        /// Consecutive `>` lines plus lazy continuation lines, parsed one level deeper.
        private func blockQuote(_ lines: [Line], from start: Int, depth: Int) -> (Block, Int) {
            var inner: [Line] = []
            var index = start
            var open = OpenBlocks()
            while index < lines.count {
                var line = lines[index]
                if !line.isLazy, isQuoteStart(line) {
                    line = stripQuoteMarker(line)
                    track(line, in: &open, depth: depth + 1)
                } else if continuesLazily(line, open) {
                    line.isLazy = true
                } else {
                    break
                }
                inner.append(line)
                index += 1
            }
            return (.quote(parseBlocks(inner, depth: depth + 1).blocks), index)
        }

        /// Consecutive items with the same kind of marker, each parsed one level deeper; loose if
        /// blank lines separate items or two blocks inside one.
        private func list(_ lines: [Line], from start: Int, first: ListMarker, depth: Int) -> (Block, Int) {
            var items: [[Block]] = []
            var loose = false
            var index = start
            var marker = first
            while true {
                var itemLines = [marker.content]
                var open = OpenBlocks()
                track(marker.content, in: &open, depth: depth + 1)
                index += 1
                var end = index
                while index < lines.count {
                    var line = lines[index]
                    if line.isLazy {
                        itemLines.append(line)
                        end = index + 1
                    } else if isBlank(line) {
                        // An item can begin with at most one blank line.
                        if marker.isEmpty, itemLines.count == 1 { break }
                        advance(&line, columns: marker.contentIndent)
                        itemLines.append(line)
                        // Inside an open fence a blank line is code, not a gap after the item.
                        if open.fence != nil { end = index + 1 }
                        track(line, in: &open, depth: depth + 1)
                    } else if indent(line) >= marker.contentIndent {
                        advance(&line, columns: marker.contentIndent)
                        itemLines.append(line)
                        track(line, in: &open, depth: depth + 1)
                        end = index + 1
                    } else if continuesLazily(line, open) {
                        line.isLazy = true
                        itemLines.append(line)
                        end = index + 1
                    } else {
                        break
                    }
                    index += 1
                }
                // Trailing blank lines belong between items (or after the list), not to the item.
                itemLines.removeLast(index - end)
                index = end
                let parsed = parseBlocks(itemLines, depth: depth + 1)
                if parsed.blankBetween { loose = true }
                items.append(parsed.blocks)

                var next = index
                while next < lines.count, isBlank(lines[next]) {
                    next += 1
                }
                guard next < lines.count, !isThematicBreak(lines[next]), let nextMarker = listMarker(lines[next]),
                    nextMarker.ordered == first.ordered, nextMarker.delimiter == first.delimiter
                else { break }
                if next > index { loose = true }
                index = next
                marker = nextMarker
            }
            let block = ListBlock(ordered: first.ordered, start: first.start, tight: !loose, items: items)
            return (.list(block), index)
        }

        /// Lines up to a blank line or a line that starts another block.
        private func paragraph(_ lines: [Line], from start: Int, depth: Int) -> (Block, Int) {
            var end = start + 1
            while end < lines.count, !isBlank(lines[end]),
                lines[end].isLazy || !interruptsParagraph(lines[end], depth: depth)
            {
                end += 1
            }
            // Leading whitespace goes; trailing whitespace stays until the inline pass, where it decides
            // whether a backslash before it is a hard break, and is then trimmed before each break.
            var text: [UInt8] = []
            for index in start..<end {
                if index > start { text.append(Byte.lineFeed) }
                let line = lines[index]
                text.append(contentsOf: source.bytes[firstNonSpace(line).index..<line.end])
            }
            while let last = text.last, Byte.isSpaceOrTab(last) {
                text.removeLast()
            }
            return (.paragraph(text), end)
        }
    }
}

// MARK: - Inlines

extension Markdown {
    /// Parses one paragraph's inline markdown (CommonMark's delimiter-stack algorithm, linear time)
    /// into a node tree and renders it.
    fileprivate struct InlineParser {
        /// An inline node. Siblings form a doubly linked list so emphasis and links can adopt a run of
        /// siblings as children in O(1).
        struct Node {
            /// What a node is; containers (emphasis, links) keep children in `firstChild` ... `lastChild`.
            enum Kind {
                /// Literal source bytes.
                case text(Range<Int>)
                /// What is left of a `*` / `_` run after matching; `count` characters.
                case delimiterRun(UInt8)
                case code(Range<Int>)
                case lineBreak
                case emphasis(strong: Bool, marker: UInt8)
                /// A nil href is a disallowed destination: the link renders as its text.
                case link(href: [UInt8]?, title: [UInt8]?)
                /// `<…>` autolink or bare URL; the range is both the text and the href.
                case autolink(Range<Int>, mailto: Bool)
            }

            var kind: Kind
            var count = 0
            var previous = -1
            var next = -1
            var firstChild = -1
            var lastChild = -1
        }

        /// A `*` / `_` run that may open or close emphasis.
        struct Delimiter {
            let node: Int
            let marker: UInt8
            let canOpen: Bool
            let canClose: Bool
            let length: Int
            var previous: Int
            var next: Int
        }

        /// An unmatched `[`.
        struct Bracket {
            let node: Int
            /// The top of the delimiter stack when the bracket was seen; emphasis inside the link text stays above it.
            let delimiterBottom: Int
            var active = true
        }

        let source: [UInt8]
        private var nodes: [Node] = []
        private var rootFirst = -1
        private var rootLast = -1
        private var delimiters: [Delimiter] = []
        private var delimiterTop = -1
        private var brackets: [Bracket] = []
        /// For each backtick run length, the start offsets of runs of exactly that length, and a cursor into them.
        private var backtickRuns: [Int: (starts: [Int], cursor: Int)] = [:]

        /// Parses `source`, one paragraph's text with lines joined by LF.
        init(_ source: [UInt8]) {
            self.source = source
            indexBacktickRuns()
            parse()
        }

        // MARK: Parsing

        /// One left-to-right pass building nodes, then emphasis resolution over what is left.
        private mutating func parse() {
            let count = source.count
            var index = 0
            var textStart = 0

            func flush(_ parser: inout InlineParser, upTo end: Int) {
                if textStart < end { parser.append(.text(textStart..<end)) }
            }

            // Text before a line break loses its trailing spaces and tabs, as in CommonMark.
            func flushBeforeBreak(_ parser: inout InlineParser, upTo end: Int) {
                var trimmed = end
                while trimmed > textStart, Byte.isSpaceOrTab(parser.source[trimmed - 1]) {
                    trimmed -= 1
                }
                flush(&parser, upTo: trimmed)
            }

            while index < count {
                let byte = source[index]
                switch byte {
                case Byte.backslash:
                    if index + 1 < count, Byte.isASCIIPunctuation(source[index + 1]) {
                        flush(&self, upTo: index)
                        append(.text(index + 1..<index + 2))
                        index += 2
                        textStart = index
                    } else if index + 1 < count, source[index + 1] == Byte.lineFeed {
                        flushBeforeBreak(&self, upTo: index)
                        append(.lineBreak)
                        index += 2
                        textStart = index
                    } else {
                        index += 1
                    }
                case Byte.lineFeed:
                    flushBeforeBreak(&self, upTo: index)
                    append(.lineBreak)
                    index += 1
                    textStart = index
                case Byte.backtick:
                    var end = index
                    while end < count, source[end] == Byte.backtick {
                        end += 1
                    }
                    if let closer = backtickCloser(length: end - index, after: end) {
                        flush(&self, upTo: index)
                        append(.code(end..<closer))
                        index = closer + (end - index)
                        textStart = index
                    } else {
                        index = end
                    }
                case Byte.star, Byte.underscore:
                    var end = index
                    while end < count, source[end] == byte {
                        end += 1
                    }
                    let before = Scalars.scalar(in: source, before: index)
                    let after: Unicode.Scalar? = end < count ? Scalars.scalar(in: source, at: end) : nil
                    let beforeSpace = Scalars.isWhitespace(before)
                    let afterSpace = Scalars.isWhitespace(after)
                    let beforePunct = Scalars.isPunctuation(before)
                    let afterPunct = Scalars.isPunctuation(after)
                    let leftFlanking = !afterSpace && (!afterPunct || beforeSpace || beforePunct)
                    let rightFlanking = !beforeSpace && (!beforePunct || afterSpace || afterPunct)
                    let canOpen: Bool
                    let canClose: Bool
                    if byte == Byte.star {
                        canOpen = leftFlanking
                        canClose = rightFlanking
                    } else {
                        canOpen = leftFlanking && (!rightFlanking || beforePunct)
                        canClose = rightFlanking && (!leftFlanking || afterPunct)
                    }
                    if canOpen || canClose {
                        flush(&self, upTo: index)
                        let node = append(.delimiterRun(byte), count: end - index)
                        pushDelimiter(Delimiter(node: node, marker: byte, canOpen: canOpen, canClose: canClose,
                                                length: end - index, previous: -1, next: -1))
                        textStart = end
                    }
                    index = end
                case Byte.leftBracket:
                    flush(&self, upTo: index)
                    let node = append(.text(index..<index + 1))
                    brackets.append(Bracket(node: node, delimiterBottom: delimiterTop))
                    index += 1
                    textStart = index
                case Byte.rightBracket:
                    flush(&self, upTo: index)
                    index = closeBracket(at: index)
                    textStart = index
                case Byte.lessThan:
                    if let (range, mailto, end) = autolink(at: index) {
                        flush(&self, upTo: index)
                        append(.autolink(range, mailto: mailto))
                        index = end
                        textStart = index
                    } else {
                        index += 1
                    }
                case 0x68, 0x48:  // h, H
                    if let end = bareURL(at: index) {
                        flush(&self, upTo: index)
                        append(.autolink(index..<end, mailto: false))
                        index = end
                        textStart = index
                    } else {
                        index += 1
                    }
                default:
                    index += 1
                }
            }
            flush(&self, upTo: count)
            processEmphasis(above: -1)
        }

        @discardableResult
        private mutating func append(_ kind: Node.Kind, count: Int = 0) -> Int {
            let index = nodes.count
            var node = Node(kind: kind, count: count)
            node.previous = rootLast
            nodes.append(node)
            if rootLast >= 0 {
                nodes[rootLast].next = index
            } else {
                rootFirst = index
            }
            rootLast = index
            return index
        }

        /// Removes a top-level node from the sibling list.
        private mutating func unlink(_ index: Int) {
            let previous = nodes[index].previous
            let next = nodes[index].next
            if previous >= 0 { nodes[previous].next = next } else { rootFirst = next }
            if next >= 0 { nodes[next].previous = previous } else { rootLast = previous }
        }

        private mutating func pushDelimiter(_ delimiter: Delimiter) {
            var delimiter = delimiter
            let index = delimiters.count
            delimiter.previous = delimiterTop
            delimiters.append(delimiter)
            if delimiterTop >= 0 { delimiters[delimiterTop].next = index }
            delimiterTop = index
        }

        private mutating func removeDelimiter(_ index: Int) {
            let previous = delimiters[index].previous
            let next = delimiters[index].next
            if previous >= 0 { delimiters[previous].next = next }
            if next >= 0 { delimiters[next].previous = previous } else { delimiterTop = previous }
        }

        // MARK: Code spans

        /// Records every maximal backtick run so each opener finds its closer without rescanning.
        private mutating func indexBacktickRuns() {
            var index = 0
            while index < source.count {
                guard source[index] == Byte.backtick else {
                    index += 1
                    continue
                }
                var end = index
                while end < source.count, source[end] == Byte.backtick {
                    end += 1
                }
                backtickRuns[end - index, default: ([], 0)].starts.append(index)
                index = end
            }
        }

        /// The start of the next run of exactly `length` backticks at or after `position`. Openers
        /// are queried in increasing position, so each length's cursor only moves forward.
        private mutating func backtickCloser(length: Int, after position: Int) -> Int? {
            guard var runs = backtickRuns[length] else { return nil }
            while runs.cursor < runs.starts.count, runs.starts[runs.cursor] < position {
                runs.cursor += 1
            }
            backtickRuns[length] = runs
            return runs.cursor < runs.starts.count ? runs.starts[runs.cursor] : nil
        }

        // MARK: Links

        /// Handles `]`: forms a link with the nearest `[` if an inline destination follows, else literal text.
        /// Returns the index to continue from.
        private mutating func closeBracket(at index: Int) -> Int {
            guard let opener = brackets.last, opener.active, let target = inlineLinkTarget(from: index + 1) else {
                if !brackets.isEmpty { brackets.removeLast() }
                append(.text(index..<index + 1))
                return index + 1
            }
            processEmphasis(above: opener.delimiterBottom)
            let href = URLPolicy.allows(target.destination) ? target.destination : nil
            var link = Node(kind: .link(href: href, title: target.title))
            let firstChild = nodes[opener.node].next
            if firstChild >= 0 {
                link.firstChild = firstChild
                link.lastChild = rootLast
                nodes[firstChild].previous = -1
            }
            link.previous = nodes[opener.node].previous
            let linkIndex = nodes.count
            nodes.append(link)
            if link.previous >= 0 { nodes[link.previous].next = linkIndex } else { rootFirst = linkIndex }
            rootLast = linkIndex
            brackets.removeLast()
            // Links may not contain links: every earlier `[` becomes literal.
            for position in brackets.indices.reversed() {
                guard brackets[position].active else { break }
                brackets[position].active = false
            }
            return target.end
        }

        /// Parses `(destination "title")` at `start`. Scans stop at whitespace, an unbalanced `)`, a
        /// parenthesis depth of 32 or a closing quote, which keeps repeated failed attempts linear.
        private func inlineLinkTarget(from start: Int) -> (destination: [UInt8], title: [UInt8]?, end: Int)? {
            let count = source.count
            guard start < count, source[start] == Byte.leftParen else { return nil }
            var index = skipWhitespace(from: start + 1)
            var destination: [UInt8] = []
            if index < count, source[index] == Byte.lessThan {
                index += 1
                while true {
                    guard index < count else { return nil }
                    let byte = source[index]
                    if byte == Byte.greaterThan {
                        index += 1
                        break
                    }
                    if byte == Byte.lineFeed || byte == Byte.lessThan { return nil }
                    if byte == Byte.backslash, index + 1 < count, Byte.isASCIIPunctuation(source[index + 1]) {
                        destination.append(source[index + 1])
                        index += 2
                        continue
                    }
                    destination.append(byte)
                    index += 1
                }
            } else {
                var depth = 0
                while index < count {
                    let byte = source[index]
                    if byte <= Byte.space || byte == Byte.delete { break }
                    if byte == Byte.backslash, index + 1 < count, Byte.isASCIIPunctuation(source[index + 1]) {
                        destination.append(source[index + 1])
                        index += 2
                        continue
                    }
                    if byte == Byte.leftParen {
                        depth += 1
                        if depth > 32 { return nil }
                    } else if byte == Byte.rightParen {
                        if depth == 0 { break }
                        depth -= 1
                    }
                    destination.append(byte)
                    index += 1
                }
                if depth != 0 { return nil }
            }
            let destinationEnd = index
            index = skipWhitespace(from: index)
            var title: [UInt8]?
            if index > destinationEnd, index < count {
                let open = source[index]
                let close: UInt8? = switch open {
                case Byte.quote, Byte.apostrophe: open
                case Byte.leftParen: Byte.rightParen
                default: nil
                }
                if let close {
                    index += 1
                    var text: [UInt8] = []
                    while true {
                        guard index < count else { return nil }
                        let byte = source[index]
                        if byte == close {
                            index += 1
                            break
                        }
                        if open == Byte.leftParen, byte == Byte.leftParen { return nil }
                        if byte == Byte.backslash, index + 1 < count, Byte.isASCIIPunctuation(source[index + 1]) {
                            text.append(source[index + 1])
                            index += 2
                            continue
                        }
                        text.append(byte)
                        index += 1
                    }
                    title = text
                    index = skipWhitespace(from: index)
                }
            }
            guard index < count, source[index] == Byte.rightParen else { return nil }
            return (destination, title, index + 1)
        }

        private func skipWhitespace(from start: Int) -> Int {
            var index = start
            while index < source.count,
                source[index] == Byte.space || source[index] == Byte.tab || source[index] == Byte.lineFeed
            {
                index += 1
            }
            return index
        }

        /// `<scheme:…>` or `<local@domain>` at `start`; only allow-listed schemes count as autolinks,
        /// anything else stays escaped text. Scans stop at the next `<` or whitespace, so they are linear overall.
        private func autolink(at start: Int) -> (Range<Int>, mailto: Bool, end: Int)? {
            let count = source.count
            let contentStart = start + 1
            guard contentStart < count else { return nil }
            if Byte.isLetter(source[contentStart]) {
                var schemeEnd = contentStart + 1
                while schemeEnd < count, schemeEnd - contentStart <= 32, Byte.isSchemeTail(source[schemeEnd]) {
                    schemeEnd += 1
                }
                let schemeLength = schemeEnd - contentStart
                if schemeEnd < count, source[schemeEnd] == Byte.colon, schemeLength >= 2, schemeLength <= 32 {
                    var end = schemeEnd + 1
                    while end < count, source[end] > Byte.space, source[end] != Byte.delete,
                        source[end] != Byte.lessThan, source[end] != Byte.greaterThan
                    {
                        end += 1
                    }
                    guard end < count, source[end] == Byte.greaterThan,
                        URLPolicy.allows(Array(source[contentStart..<end]))
                    else { return nil }
                    return (contentStart..<end, false, end + 1)
                }
            }
            var at = contentStart
            while at < count, Byte.isEmailLocal(source[at]) {
                at += 1
            }
            guard at > contentStart, at < count, source[at] == Byte.at else { return nil }
            // Domain: labels of letters, digits and inner hyphens (at most 63), separated by dots.
            var index = at + 1
            while true {
                let labelStart = index
                while index < count, Byte.isAlphanumeric(source[index]) || source[index] == Byte.dash {
                    index += 1
                }
                let length = index - labelStart
                guard length >= 1, length <= 63, source[labelStart] != Byte.dash, source[index - 1] != Byte.dash,
                    index < count
                else { return nil }
                if source[index] == Byte.dot {
                    index += 1
                    continue
                }
                guard source[index] == Byte.greaterThan else { return nil }
                let range = contentStart..<index
                guard URLPolicy.allows(Array("mailto:".utf8) + source[range]) else { return nil }
                return (range, true, index + 1)
            }
        }

        /// A bare `http://` or `https://` URL starting at `start` (GFM extended autolink): it must begin
        /// the text or follow whitespace or one of `*_~(`, needs a dotted domain, and ends at whitespace,
        /// `<`, `>`, brackets, a backtick, `*` or `\`, minus trailing punctuation and unbalanced `)`.
        /// Returns its end.
        private func bareURL(at start: Int) -> Int? {
            let count = source.count
            if start > 0 {
                switch source[start - 1] {
                case Byte.space, Byte.tab, Byte.lineFeed, Byte.star, Byte.underscore, Byte.tilde, Byte.leftParen: break
                default: return nil
                }
            }
            var index = start
            for expected in "http".utf8 {
                guard index < count, Byte.lowercased(source[index]) == expected else { return nil }
                index += 1
            }
            if index < count, Byte.lowercased(source[index]) == 0x73 {  // s
                index += 1
            }
            for expected in "://".utf8 {
                guard index < count, source[index] == expected else { return nil }
                index += 1
            }
            let domainStart = index
            var end = index
            while end < count {
                let byte = source[end]
                // Brackets, backticks, `*` and `\` end the URL so link, code, emphasis and escape syntax
                // right after it still works (GFM gets the same by linking only leftover text).
                if byte <= Byte.space || byte == Byte.delete || byte == Byte.lessThan || byte == Byte.greaterThan
                    || byte == Byte.leftBracket || byte == Byte.rightBracket || byte == Byte.backtick
                    || byte == Byte.star || byte == Byte.backslash
                {
                    break
                }
                end += 1
            }
            var openParens = 0
            var closeParens = 0
            for byte in source[start..<end] {
                if byte == Byte.leftParen { openParens += 1 } else if byte == Byte.rightParen { closeParens += 1 }
            }
            while end > domainStart {
                let last = source[end - 1]
                switch last {
                case Byte.dot, Byte.comma, Byte.colon, Byte.semicolon, Byte.exclamation, Byte.question,
                    Byte.star, Byte.underscore, Byte.tilde, Byte.apostrophe, Byte.quote:
                    end -= 1
                    continue
                case Byte.rightParen where closeParens > openParens:
                    closeParens -= 1
                    end -= 1
                    continue
                default:
                    break
                }
                break
            }
            // As in GFM, the domain needs a period with something after it: `http://a` stays text.
            var position = domainStart
            var sawText = false
            var dottedLabel = false
            while position < end {
                let byte = source[position]
                if Byte.isAlphanumeric(byte) || byte >= 0x80 || byte == Byte.dash || byte == Byte.underscore {
                    if position > domainStart, source[position - 1] == Byte.dot, sawText { dottedLabel = true }
                    sawText = true
                } else if byte != Byte.dot {
                    break
                }
                position += 1
            }
            guard dottedLabel, URLPolicy.allows(Array(source[start..<end])) else { return nil }
            return end
        }

        // MARK: Emphasis

        /// CommonMark's "process emphasis" over the delimiters above `bottom`, which it then removes.
        /// `openersBottom` remembers, per closer kind, below which no opener can match, so the search
        /// never rescans and the whole pass stays linear.
        private mutating func processEmphasis(above bottom: Int) {
            var openersBottom = [Int](repeating: bottom, count: 12)
            var closer = delimiterTop
            var firstAbove = -1
            while closer > bottom {
                firstAbove = closer
                closer = delimiters[closer].previous
            }
            closer = firstAbove
            while closer >= 0 {
                let current = delimiters[closer]
                guard current.canClose else {
                    closer = current.next
                    continue
                }
                let key = (current.marker == Byte.star ? 0 : 6) + (current.canOpen ? 3 : 0) + current.length % 3
                let floor = max(bottom, openersBottom[key])
                var opener = current.previous
                var found = -1
                while opener > floor {
                    let candidate = delimiters[opener]
                    if candidate.marker == current.marker, candidate.canOpen {
                        // The "rule of 3" that keeps `*foo**bar*` from matching across the `**`.
                        let eitherBoth = candidate.canClose || current.canOpen
                        let sum = candidate.length + current.length
                        if !(eitherBoth && sum % 3 == 0 && !(candidate.length % 3 == 0 && current.length % 3 == 0)) {
                            found = opener
                            break
                        }
                    }
                    opener = candidate.previous
                }
                guard found >= 0 else {
                    openersBottom[key] = current.previous
                    let next = current.next
                    if !current.canOpen { removeDelimiter(closer) }
                    closer = next
                    continue
                }
                let openerNode = delimiters[found].node
                let closerNode = current.node
                let used = nodes[openerNode].count >= 2 && nodes[closerNode].count >= 2 ? 2 : 1
                nodes[openerNode].count -= used
                nodes[closerNode].count -= used
                wrap(after: openerNode, before: closerNode, in: .emphasis(strong: used == 2, marker: current.marker))
                // Delimiters between the pair can no longer match anything.
                delimiters[found].next = closer
                delimiters[closer].previous = found
                if nodes[openerNode].count == 0 {
                    unlink(openerNode)
                    removeDelimiter(found)
                }
                if nodes[closerNode].count == 0 {
                    let next = delimiters[closer].next
                    unlink(closerNode)
                    removeDelimiter(closer)
                    closer = next
                }
            }
            delimiterTop = bottom
            if bottom >= 0 { delimiters[bottom].next = -1 }
        }

        /// Moves the siblings strictly between two nodes into a new node of `kind` placed between them.
        private mutating func wrap(after start: Int, before end: Int, in kind: Node.Kind) {
            var wrapper = Node(kind: kind)
            let first = nodes[start].next
            if first != end {
                let last = nodes[end].previous
                wrapper.firstChild = first
                wrapper.lastChild = last
                nodes[first].previous = -1
                nodes[last].next = -1
            }
            wrapper.previous = start
            wrapper.next = end
            let index = nodes.count
            nodes.append(wrapper)
            nodes[start].next = index
            nodes[end].previous = index
        }

        // MARK: Rendering

        /// What to emit when a node's children are done.
        private enum Closing {
            case none
            case tag(StaticString)
            case literal(UInt8, Int)
        }

        /// A node whose children are being rendered; an explicit stack, so nesting depth costs no call stack.
        private struct Frame {
            var cursor: Int
            let closing: Closing
            let inLink: Bool
            let depth: Int
        }

        /// Writes the nodes as HTML; emphasis deeper than `Markdown.maxInlineDepth` keeps its literal markers.
        func render(into out: inout HTMLWriter) {
            var stack = [Frame(cursor: rootFirst, closing: .none, inLink: false, depth: 0)]
            while let frame = stack.last {
                guard frame.cursor >= 0 else {
                    stack.removeLast()
                    switch frame.closing {
                    case .none: break
                    case .tag(let tag): out.raw(tag)
                    case .literal(let marker, let count): out.text(ArraySlice(repeating: marker, count: count))
                    }
                    continue
                }
                let node = nodes[frame.cursor]
                stack[stack.count - 1].cursor = node.next
                switch node.kind {
                case .text(let range):
                    out.text(source[range])
                case .delimiterRun(let marker):
                    out.text(ArraySlice(repeating: marker, count: node.count))
                case .lineBreak:
                    out.raw("<br>\n")
                case .code(let range):
                    out.raw("<code>")
                    out.text(codeSpanContent(range))
                    out.raw("</code>")
                case .emphasis(let strong, let marker):
                    let closing: Closing
                    if frame.depth < Markdown.maxInlineDepth {
                        out.raw(strong ? "<strong>" : "<em>")
                        closing = .tag(strong ? "</strong>" : "</em>")
                    } else {
                        out.text(ArraySlice(repeating: marker, count: strong ? 2 : 1))
                        closing = .literal(marker, strong ? 2 : 1)
                    }
                    stack.append(Frame(cursor: node.firstChild, closing: closing, inLink: frame.inLink,
                                       depth: frame.depth + 1))
                case .link(let href, let title):
                    guard let href, !frame.inLink else {
                        stack.append(Frame(cursor: node.firstChild, closing: .none, inLink: frame.inLink,
                                           depth: frame.depth))
                        break
                    }
                    out.raw("<a href=\"")
                    out.url(href[...])
                    if let title {
                        out.raw("\" title=\"")
                        out.text(title[...])
                    }
                    out.raw("\" rel=\"nofollow ugc noopener\">")
                    stack.append(Frame(cursor: node.firstChild, closing: .tag("</a>"), inLink: true,
                                       depth: frame.depth))
                case .autolink(let range, let mailto):
                    if frame.inLink {
                        out.text(source[range])
                        break
                    }
                    out.raw("<a href=\"")
                    if mailto { out.raw("mailto:") }
                    out.url(source[range])
                    out.raw("\" rel=\"nofollow ugc noopener\">")
                    out.text(source[range])
                    out.raw("</a>")
                }
            }
        }

        /// Code span content: line endings become spaces, and one space is stripped from each end
        /// when both ends have one and the content is not all spaces.
        private func codeSpanContent(_ range: Range<Int>) -> ArraySlice<UInt8> {
            var content = ArraySlice(source[range].map { $0 == Byte.lineFeed ? Byte.space : $0 })
            if content.count >= 2, content.first == Byte.space, content.last == Byte.space,
                content.contains(where: { $0 != Byte.space })
            {
                content = content.dropFirst().dropLast()
            }
            return content
        }
    }
}
