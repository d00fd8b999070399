// Imported comments (Disqus, WordPress) are HTML written by other systems. This file turns that HTML
// into the same small subset `Markdown.render` emits, so stored comments have one safe form.
//
// Safety comes from construction, as in Markdown.swift: the input is tokenized the way a browser
// tokenizes it, and the output is rebuilt from scratch. Tags come only from string literals; text
// and href values only ever reach the output through escaping. Nothing from the input is copied
// through as markup, so wherever this tokenizer and a browser disagree, the worst outcome is text
// kept or lost, never a tag or attribute the allow-list does not name.
//
// The work is on UTF-8 bytes. Every syntax character is ASCII and no byte of a multi-byte scalar is
// ASCII, so splitting at syntax characters never cuts a scalar and text passes through byte for byte.
//
// Everything is a single forward pass with explicit stacks whose depth is capped, so run time is
// linear in the input and nesting depth never reaches the call stack.

/// Converts untrusted HTML (from imports) into Margin's safe subset.
///
/// The output uses only the tags and attributes `Markdown.render` uses, with the same layout
/// (blocks on their own lines, `<br>` followed by a newline, the same escaping), so sanitising
/// rendered markdown gives it back unchanged apart from the attributes only markdown adds
/// (`class` on code, `start` on lists, `title` on links).
public enum HTMLSanitizer {
    /// Open block elements (paragraphs, quotes, lists, items, pre) beyond this are not opened.
    static let maxBlockDepth = 32
    /// Open inline elements (em, strong, code, a) beyond this are not opened.
    static let maxInlineDepth = 16
    /// Nested elements whose content is dropped (svg, template, object…) tracked beyond this are not
    /// tracked; their content is still dropped, their end tags may end the dropping early.
    static let maxDroppedDepth = 64

    /// Sanitised HTML: keeps text, paragraphs (<p>), line breaks (<br>), links (<a href> with allow-listed schemes, rel="nofollow ugc noopener"), emphasis (em/i → em, strong/b → strong), code (code, pre), quotes (blockquote), lists (ul, ol, li); drops every other tag but keeps its text content, except the content of script, style, template, iframe, object, embed, noscript, textarea, title, head, svg, math, select which is dropped entirely. Every attribute other than href on <a> is dropped. Entities are decoded and re-escaped (so &lt;script&gt; stays text). Comments, CDATA, processing instructions and doctype are dropped. Unclosed tags are closed, stray close tags ignored, nesting made valid. Bare text with newlines (Disqus/WordPress often store plain text with \n and <br>) becomes paragraphs: blank lines separate <p>, single newlines become <br>. Never crashes, linear time, bounded nesting depth.
    public static func sanitize(_ html: String) -> String {
        run(html, mode: .html)
    }

    /// Plain text of the same HTML (for the stored markdown `body` of an imported comment and for spam features): tags removed, entities decoded, <br> and block ends become newlines, whitespace runs inside lines collapsed.
    ///
    /// Paragraphs, quotes, lists and preformatted blocks are separated by a blank line, list items
    /// and `<br>` end a line; text inside `<pre>` keeps its own spacing. What `sanitize` drops
    /// (script, style, svg… content) is dropped here too.
    public static func plainText(_ html: String) -> String {
        run(html, mode: .text)
    }

    /// `sanitize` and `plainText` of the same HTML from one parse (what an import stores).
    public static func sanitizeWithPlainText(_ html: String) -> (html: String, text: String) {
        var builder = TreeBuilder(output: Output(html: OutputWriter(mode: .html), text: OutputWriter(mode: .text)))
        var tokenizer = Tokenizer(html)
        tokenizer.run(into: &builder)
        builder.closeAll()
        return builder.out.finishBoth()
    }

    private static func run(_ html: String, mode: OutputMode) -> String {
        var builder = TreeBuilder(output: Output(html: OutputWriter(mode: mode), text: nil))
        var tokenizer = Tokenizer(html)
        tokenizer.run(into: &builder)
        return builder.finish()
    }
}

// MARK: - Bytes

extension HTMLSanitizer {
    /// ASCII constants and the character classes of the HTML tokenizer.
    fileprivate enum ASCII {
        static let tab: UInt8 = 0x09
        static let lineFeed: UInt8 = 0x0A
        static let formFeed: UInt8 = 0x0C
        static let carriageReturn: UInt8 = 0x0D
        static let space: UInt8 = 0x20
        static let exclamation: UInt8 = 0x21
        static let quote: UInt8 = 0x22
        static let hash: UInt8 = 0x23
        static let ampersand: UInt8 = 0x26
        static let apostrophe: UInt8 = 0x27
        static let dash: UInt8 = 0x2D
        static let slash: UInt8 = 0x2F
        static let colon: UInt8 = 0x3A
        static let semicolon: UInt8 = 0x3B
        static let lessThan: UInt8 = 0x3C
        static let equals: UInt8 = 0x3D
        static let greaterThan: UInt8 = 0x3E
        static let question: UInt8 = 0x3F
        static let rightBracket: UInt8 = 0x5D
        static let delete: UInt8 = 0x7F
        /// U+FFFD, which replaces NUL and invalid character references.
        static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

        /// The HTML tokenizer's whitespace (CR never survives newline normalisation).
        static func isWhitespace(_ b: UInt8) -> Bool {
            b == space || b == lineFeed || b == tab || b == formFeed || b == carriageReturn
        }
        static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
        static func isAlphanumeric(_ b: UInt8) -> Bool { isDigit(b) || isLetter(b) }
        static func lowercased(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

        /// Appends `scalar` as UTF-8.
        static func append(_ scalar: Unicode.Scalar, to bytes: inout [UInt8]) {
            UTF8.encode(scalar) { bytes.append($0) }
        }
    }
}

// MARK: - Character references

extension HTMLSanitizer {
    /// Decodes `&name;`, `&#NN;` and `&#xHH;` as a browser does.
    ///
    /// Named references are the HTML 4 set plus a few HTML 5 ones; like browsers, the legacy Latin-1
    /// names also match without a semicolon (`&copy 2020`, `&notit;` → `¬it;`), except inside an
    /// attribute value when a letter, digit or `=` follows (`?a=1&copy=2` stays as typed).
    fileprivate enum CharacterReferences {
        /// Decodes every reference in `bytes`; NUL becomes U+FFFD and a decoded CR becomes LF.
        static func decode(_ bytes: ArraySlice<UInt8>, inAttribute: Bool) -> [UInt8] {
            // Most text has nothing to decode: copy it in one go.
            guard bytes.contains(where: { $0 == ASCII.ampersand || $0 == 0 }) else { return Array(bytes) }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var index = bytes.startIndex
            while index < bytes.endIndex {
                let byte = bytes[index]
                if byte == 0 {
                    out.append(contentsOf: ASCII.replacement)
                    index += 1
                } else if byte == ASCII.ampersand, let (scalar, end) = reference(in: bytes, at: index, inAttribute: inAttribute) {
                    // A CR from `&#13;` would be folded into LF by a second pass; fold it now.
                    ASCII.append(scalar.value == 0x0D ? "\n" : scalar, to: &out)
                    index = end
                } else {
                    out.append(byte)
                    index += 1
                }
            }
            return out
        }

        /// The reference starting at the `&` at `start`, and where it ends; nil when the `&` is literal.
        private static func reference(in bytes: ArraySlice<UInt8>, at start: Int, inAttribute: Bool)
            -> (Unicode.Scalar, Int)?
        {
            var index = start + 1
            guard index < bytes.endIndex else { return nil }
            if bytes[index] == ASCII.hash {
                index += 1
                let hex = index < bytes.endIndex && (bytes[index] | 0x20) == 0x78  // x
                if hex { index += 1 }
                let digitsStart = index
                var value: UInt32 = 0
                while index < bytes.endIndex, let digit = digitValue(bytes[index], hex: hex) {
                    // Saturate past the Unicode range: any number of digits is one (invalid) reference.
                    if value <= 0x10FFFF { value = value * (hex ? 16 : 10) + digit }
                    index += 1
                }
                guard index > digitsStart else { return nil }
                if index < bytes.endIndex, bytes[index] == ASCII.semicolon { index += 1 }
                return (numericScalar(value), index)
            }
            let nameStart = index
            while index < bytes.endIndex, index - nameStart < 32, ASCII.isAlphanumeric(bytes[index]) {
                index += 1
            }
            guard index > nameStart else { return nil }
            if index < bytes.endIndex, bytes[index] == ASCII.semicolon,
                let value = named[String(decoding: bytes[nameStart..<index], as: UTF8.self)]
            {
                return (value, index + 1)
            }
            // Without a semicolon only the legacy names match, longest first, as browsers do.
            var length = min(index - nameStart, 6)
            while length >= 2 {
                let end = nameStart + length
                if let value = legacy[String(decoding: bytes[nameStart..<end], as: UTF8.self)] {
                    if inAttribute, end < bytes.endIndex,
                        bytes[end] == ASCII.equals || ASCII.isAlphanumeric(bytes[end])
                    {
                        return nil
                    }
                    return (value, end)
                }
                length -= 1
            }
            return nil
        }

        private static func digitValue(_ byte: UInt8, hex: Bool) -> UInt32? {
            if ASCII.isDigit(byte) { return UInt32(byte - 0x30) }
            let lower = byte | 0x20
            if hex, lower >= 0x61, lower <= 0x66 { return UInt32(lower - 0x61 + 10) }
            return nil
        }

        /// The scalar a numeric reference stands for: NUL, surrogates and values past U+10FFFF become
        /// U+FFFD, and 0x80–0x9F are read as Windows-1252, as browsers do.
        static func numericScalar(_ value: UInt32) -> Unicode.Scalar {
            if value >= 0x80, value <= 0x9F {
                let mapped = windows1252[Int(value - 0x80)]
                if mapped != 0, let scalar = Unicode.Scalar(mapped) { return scalar }
            }
            guard value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
            return scalar
        }

        /// Windows-1252 for 0x80–0x9F; 0 where browsers keep the C1 control as is.
        private static let windows1252: [UInt32] = [
            0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
            0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
        ]

        /// U+00A0…U+00FF in order.
        private static let latin1Names = """
            nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 \
            acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde \
            Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc \
            Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml \
            aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc \
            otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml
            """

        /// The rest of HTML 4 (with HTML 5's values for lang and rang), then HTML 5 names that spell ASCII.
        private static let otherNames = """
            quot 34 amp 38 lt 60 gt 62 QUOT 34 AMP 38 LT 60 GT 62 COPY 169 REG 174 apos 39 \
            OElig 338 oelig 339 Scaron 352 scaron 353 Yuml 376 circ 710 tilde 732 ensp 8194 emsp 8195 thinsp 8201 \
            zwnj 8204 zwj 8205 lrm 8206 rlm 8207 ndash 8211 mdash 8212 lsquo 8216 rsquo 8217 sbquo 8218 ldquo 8220 \
            rdquo 8221 bdquo 8222 dagger 8224 Dagger 8225 permil 8240 lsaquo 8249 rsaquo 8250 euro 8364 \
            fnof 402 Alpha 913 Beta 914 Gamma 915 Delta 916 Epsilon 917 Zeta 918 Eta 919 Theta 920 Iota 921 \
            Kappa 922 Lambda 923 Mu 924 Nu 925 Xi 926 Omicron 927 Pi 928 Rho 929 Sigma 931 Tau 932 Upsilon 933 \
            Phi 934 Chi 935 Psi 936 Omega 937 alpha 945 beta 946 gamma 947 delta 948 epsilon 949 zeta 950 eta 951 \
            theta 952 iota 953 kappa 954 lambda 955 mu 956 nu 957 xi 958 omicron 959 pi 960 rho 961 sigmaf 962 \
            sigma 963 tau 964 upsilon 965 phi 966 chi 967 psi 968 omega 969 thetasym 977 upsih 978 piv 982 \
            bull 8226 hellip 8230 prime 8242 Prime 8243 oline 8254 frasl 8260 weierp 8472 image 8465 real 8476 \
            trade 8482 alefsym 8501 larr 8592 uarr 8593 rarr 8594 darr 8595 harr 8596 crarr 8629 lArr 8656 \
            uArr 8657 rArr 8658 dArr 8659 hArr 8660 forall 8704 part 8706 exist 8707 empty 8709 nabla 8711 \
            isin 8712 notin 8713 ni 8715 prod 8719 sum 8721 minus 8722 lowast 8727 radic 8730 prop 8733 \
            infin 8734 ang 8736 and 8743 or 8744 cap 8745 cup 8746 int 8747 there4 8756 sim 8764 cong 8773 \
            asymp 8776 ne 8800 equiv 8801 le 8804 ge 8805 sub 8834 sup 8835 nsub 8836 sube 8838 supe 8839 \
            oplus 8853 otimes 8855 perp 8869 sdot 8901 lceil 8968 rceil 8969 lfloor 8970 rfloor 8971 \
            lang 10216 rang 10217 loz 9674 spades 9824 clubs 9827 hearts 9829 diams 9830 \
            Tab 9 NewLine 10 excl 33 num 35 dollar 36 percnt 37 lpar 40 rpar 41 ast 42 plus 43 comma 44 \
            period 46 sol 47 colon 58 semi 59 equals 61 quest 63 commat 64 lsqb 91 bsol 92 rsqb 93 Hat 94 \
            lowbar 95 grave 96 lcub 123 verbar 124 rcub 125 hyphen 8208 dash 8208 horbar 8213 \
            NonBreakingSpace 160 ZeroWidthSpace 8203 check 10003 cross 10007 star 9734 starf 9733 \
            half 189 frac13 8531 frac23 8532 centerdot 183
            """

        /// Every name that matches with a semicolon.
        private static let named: [String: Unicode.Scalar] = {
            var table: [String: Unicode.Scalar] = [:]
            for (offset, name) in latin1Names.split(separator: " ").enumerated() {
                table[String(name)] = Unicode.Scalar(UInt8(0xA0 + offset))
            }
            let words = otherNames.split(separator: " ")
            for pair in stride(from: 0, to: words.count - 1, by: 2) {
                if let value = UInt32(words[pair + 1]), let scalar = Unicode.Scalar(value) {
                    table[String(words[pair])] = scalar
                }
            }
            return table
        }()

        /// The names browsers also match without a semicolon: Latin-1 and the markup characters.
        private static let legacy: [String: Unicode.Scalar] = {
            var table: [String: Unicode.Scalar] = [:]
            for (offset, name) in latin1Names.split(separator: " ").enumerated() {
                table[String(name)] = Unicode.Scalar(UInt8(0xA0 + offset))
            }
            for (name, value) in [("amp", 38), ("lt", 60), ("gt", 62), ("quot", 34), ("AMP", 38), ("LT", 60),
                                  ("GT", 62), ("QUOT", 34), ("COPY", 169), ("REG", 174)] as [(String, UInt8)]
            {
                table[name] = Unicode.Scalar(value)
            }
            return table
        }()
    }
}

// MARK: - Links

extension HTMLSanitizer {
    /// Hrefs: browser-style clean-up, then `Markdown.URLPolicy`, the one link allow-list.
    fileprivate enum LinkPolicy {
        private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

        /// The href to emit for an entity-decoded attribute value, or nil when the link must go.
        ///
        /// As a browser's URL parser does, tabs and newlines are removed and leading and trailing
        /// spaces and control characters stripped; remaining spaces and controls are percent-encoded,
        /// so the emitted value is exactly the URL a browser will use. Both forms must pass `allows`.
        static func href(_ decoded: [UInt8]) -> [UInt8]? {
            var value = decoded.filter { $0 != ASCII.tab && $0 != ASCII.lineFeed && $0 != ASCII.carriageReturn }
            while let last = value.last, last <= ASCII.space { value.removeLast() }
            let leading = value.prefix(while: { $0 <= ASCII.space }).count
            value.removeFirst(leading)
            var encoded: [UInt8] = []
            encoded.reserveCapacity(value.count)
            for byte in value {
                if byte <= ASCII.space || byte == ASCII.delete {
                    encoded.append(0x25)
                    encoded.append(hexDigits[Int(byte >> 4)])
                    encoded.append(hexDigits[Int(byte & 0x0F)])
                } else {
                    encoded.append(byte)
                }
            }
            guard Markdown.URLPolicy.allows(value), Markdown.URLPolicy.allows(encoded) else { return nil }
            return encoded
        }
    }
}

// MARK: - Tokenizer

extension HTMLSanitizer {
    /// A start tag as the tree builder needs it: name lowercased, the first `href` entity-decoded.
    fileprivate struct StartTag {
        let name: String
        let selfClosing: Bool
        let href: [UInt8]?
    }

    /// How the tokenizer reads an element's content after its start tag.
    fileprivate enum ContentModel {
        /// Ordinary markup.
        case markup
        /// Text up to `</name` (RAWTEXT and RCDATA: style, iframe, textarea, title, xmp…); `keep` says
        /// whether the text is content or dropped.
        case rawText(name: [UInt8], keep: Bool)
        /// Script data, with the `<!--` / `<script>` escaping rules that decide where it ends.
        case script
        /// Everything to the end of the input is text.
        case plaintext(keep: Bool)
    }

    /// Splits the input into text, tags and ignored markup the way the HTML tokenizer does, and feeds
    /// them to the tree builder, which decides where raw text elements switch the content model.
    fileprivate struct Tokenizer {
        private let input: [UInt8]
        private var position = 0

        /// A tokenizer over `html` with CR and CRLF folded to LF, as browsers preprocess input.
        init(_ html: String) {
            let bytes = Array(html.utf8)
            guard bytes.contains(ASCII.carriageReturn) else {
                input = bytes
                return
            }
            var folded: [UInt8] = []
            folded.reserveCapacity(bytes.count)
            var index = 0
            while index < bytes.count {
                if bytes[index] == ASCII.carriageReturn {
                    folded.append(ASCII.lineFeed)
                    if index + 1 < bytes.count, bytes[index + 1] == ASCII.lineFeed { index += 1 }
                } else {
                    folded.append(bytes[index])
                }
                index += 1
            }
            input = folded
        }

        /// Tokenizes the whole input into `builder`.
        mutating func run(into builder: inout TreeBuilder) {
            while position < input.count {
                if input[position] == ASCII.lessThan, markup(into: &builder) { continue }
                // Text up to the next `<`; a `<` that starts no markup is part of it.
                let start = position
                position += 1
                while position < input.count, input[position] != ASCII.lessThan {
                    position += 1
                }
                builder.text(CharacterReferences.decode(input[start..<position], inAttribute: false))
            }
        }

        /// Handles the markup at the `<` at `position`; false when that `<` is just text.
        private mutating func markup(into builder: inout TreeBuilder) -> Bool {
            let next = position + 1
            guard next < input.count else { return false }
            let byte = input[next]
            if ASCII.isLetter(byte) {
                guard let (tag, end) = scanTag(nameStart: next, isEnd: false) else {
                    unterminatedTag(into: &builder)
                    return true
                }
                position = end
                let model = builder.startTag(StartTag(name: tag.name, selfClosing: tag.selfClosing, href: tag.href))
                content(model, into: &builder)
                return true
            }
            switch byte {
            case ASCII.slash:
                let after = next + 1
                guard after < input.count else { return false }
                if ASCII.isLetter(input[after]) {
                    guard let (tag, end) = scanTag(nameStart: after, isEnd: true) else {
                        unterminatedTag(into: &builder)
                        return true
                    }
                    position = end
                    builder.endTag(tag.name)
                } else if input[after] == ASCII.greaterThan {
                    position = after + 1  // `</>` is dropped
                } else {
                    skipBogusComment(from: after)
                }
                return true
            case ASCII.exclamation:
                let after = next + 1
                if starts(with: "--", at: after) {
                    skipComment(from: after + 2)
                } else if builder.inForeignContent, starts(with: "[CDATA[", at: after) {
                    skip(past: "]]>", from: after + 7)
                } else {
                    // Doctype, `<![CDATA[` in HTML content and any other `<!`: a bogus comment up to `>`.
                    skipBogusComment(from: after)
                }
                return true
            case ASCII.question:
                skipBogusComment(from: next)  // processing instruction
                return true
            default:
                return false
            }
        }

        /// A tag cut off by the end of the input: browsers drop it, the brief keeps it as text. The
        /// rest of the input is text, so a long tail of `<a title="…` is scanned once, not once per `<`.
        private mutating func unterminatedTag(into builder: inout TreeBuilder) {
            builder.text(CharacterReferences.decode(input[position...], inAttribute: false))
            position = input.count
        }

        private func starts(with literal: StaticString, at index: Int) -> Bool {
            literal.withUTF8Buffer { bytes in
                guard index + bytes.count <= input.count else { return false }
                for offset in 0..<bytes.count where input[index + offset] != bytes[offset] {
                    return false
                }
                return true
            }
        }

        /// After `<!--`: ends at `-->` or `--!>`; `<!-->` and `<!--->` are complete comments.
        private mutating func skipComment(from start: Int) {
            if start < input.count, input[start] == ASCII.greaterThan {
                position = start + 1
                return
            }
            if starts(with: "->", at: start) {
                position = start + 2
                return
            }
            var index = start
            while index + 2 < input.count {
                if input[index] == ASCII.dash, input[index + 1] == ASCII.dash {
                    if input[index + 2] == ASCII.greaterThan {
                        position = index + 3
                        return
                    }
                    if index + 3 < input.count, input[index + 2] == ASCII.exclamation,
                        input[index + 3] == ASCII.greaterThan
                    {
                        position = index + 4
                        return
                    }
                }
                index += 1
            }
            position = input.count
        }

        private mutating func skipBogusComment(from start: Int) {
            var index = start
            while index < input.count, input[index] != ASCII.greaterThan {
                index += 1
            }
            position = min(index + 1, input.count)
        }

        private mutating func skip(past literal: StaticString, from start: Int) {
            var index = start
            while index < input.count, !starts(with: literal, at: index) {
                index += 1
            }
            position = min(index + literal.utf8CodeUnitCount, input.count)
        }

        /// The tag whose name starts at `nameStart`, following the tag name, attribute name and value
        /// states; nil when the input ends inside it.
        private func scanTag(nameStart: Int, isEnd: Bool) -> ((name: String, selfClosing: Bool, href: [UInt8]?), Int)? {
            var index = nameStart
            var name: [UInt8] = []
            var selfClosing = false
            var href: [UInt8]?
            var sawHref = false
            while index < input.count {
                let byte = input[index]
                if ASCII.isWhitespace(byte) || byte == ASCII.slash || byte == ASCII.greaterThan { break }
                if byte == 0 {
                    name.append(contentsOf: ASCII.replacement)
                } else {
                    name.append(ASCII.lowercased(byte))
                }
                index += 1
            }
            func result(_ end: Int) -> ((name: String, selfClosing: Bool, href: [UInt8]?), Int) {
                ((String(decoding: name, as: UTF8.self), selfClosing, href), end)
            }
            // Before attribute name: whitespace is skipped, `/` may make the tag self-closing.
            while true {
                while index < input.count, ASCII.isWhitespace(input[index]) {
                    index += 1
                }
                guard index < input.count else { return nil }
                if input[index] == ASCII.greaterThan { return result(index + 1) }
                if input[index] == ASCII.slash {
                    index += 1
                    guard index < input.count else { return nil }
                    if input[index] == ASCII.greaterThan {
                        selfClosing = true
                        return result(index + 1)
                    }
                    continue
                }
                // Attribute name; its first character may be `=`.
                let attributeStart = index
                index += 1
                while index < input.count {
                    let byte = input[index]
                    if ASCII.isWhitespace(byte) || byte == ASCII.slash || byte == ASCII.greaterThan || byte == ASCII.equals {
                        break
                    }
                    index += 1
                }
                let isHrefName = index - attributeStart == 4
                    && zip(input[attributeStart..<index], "href".utf8).allSatisfy { ASCII.lowercased($0) == $1 }
                // Only the first `href` counts: browsers ignore a repeated attribute.
                let isHref = isHrefName && !isEnd && !sawHref
                if isHrefName { sawHref = true }
                while index < input.count, ASCII.isWhitespace(input[index]) {
                    index += 1
                }
                guard index < input.count else { return nil }
                guard input[index] == ASCII.equals else {
                    if isHref { href = [] }
                    continue  // `/`, `>` or the next attribute: handled as before an attribute name
                }
                index += 1
                while index < input.count, ASCII.isWhitespace(input[index]) {
                    index += 1
                }
                guard index < input.count else { return nil }
                let quote = input[index]
                let value: Range<Int>
                if quote == ASCII.quote || quote == ASCII.apostrophe {
                    let start = index + 1
                    index = start
                    while index < input.count, input[index] != quote {
                        index += 1
                    }
                    guard index < input.count else { return nil }
                    value = start..<index
                    index += 1
                } else {
                    let start = index
                    while index < input.count, !ASCII.isWhitespace(input[index]), input[index] != ASCII.greaterThan {
                        index += 1
                    }
                    value = start..<index
                }
                if isHref { href = CharacterReferences.decode(input[value], inAttribute: true) }
            }
        }

        /// Reads the content of a raw text element (or nothing for ordinary markup) and its end tag.
        private mutating func content(_ model: ContentModel, into builder: inout TreeBuilder) {
            let end: Int?
            let keep: Bool
            switch model {
            case .markup:
                return
            case .plaintext(let keepText):
                if keepText { builder.text(replacingNUL(input[position...])) }
                position = input.count
                return
            case .rawText(let name, let keepText):
                end = findEndTag(name, from: position)
                keep = keepText
            case .script:
                end = findScriptEnd(from: position)
                keep = false
            }
            guard let end else {
                if keep { builder.text(replacingNUL(input[position...])) }
                position = input.count
                return
            }
            if keep { builder.text(replacingNUL(input[position..<end])) }
            guard let (tag, after) = scanTag(nameStart: end + 2, isEnd: true) else {
                position = end
                unterminatedTag(into: &builder)
                return
            }
            position = after
            builder.endTag(tag.name)
        }

        /// Raw text keeps `&` as typed; only NUL is replaced.
        private func replacingNUL(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            guard bytes.contains(0) else { return Array(bytes) }
            var out: [UInt8] = []
            for byte in bytes {
                if byte == 0 { out.append(contentsOf: ASCII.replacement) } else { out.append(byte) }
            }
            return out
        }

        /// Whether an end tag for `name` (lowercase) starts at `index`: `</name` then whitespace, `/` or `>`.
        private func isEndTag(_ name: [UInt8], at index: Int) -> Bool {
            let after = index + 2 + name.count
            guard after < input.count, input[index] == ASCII.lessThan, input[index + 1] == ASCII.slash else {
                return false
            }
            for offset in 0..<name.count where ASCII.lowercased(input[index + 2 + offset]) != name[offset] {
                return false
            }
            let byte = input[after]
            return ASCII.isWhitespace(byte) || byte == ASCII.slash || byte == ASCII.greaterThan
        }

        private func findEndTag(_ name: [UInt8], from start: Int) -> Int? {
            var index = start
            while index < input.count {
                if input[index] == ASCII.lessThan, isEndTag(name, at: index) { return index }
                index += 1
            }
            return nil
        }

        /// Where script data ends. `<!--` starts an escaped section in which `<script>` starts a
        /// double-escaped one that `</script>` only leaves; `-->` ends both. Browsers do this so
        /// old pages that hid scripts in comments keep working, and it decides what is script.
        private func findScriptEnd(from start: Int) -> Int? {
            let script = Array("script".utf8)
            /// The script data states that matter for finding the end.
            enum State { case data, escaped, doubleEscaped }
            var state = State.data
            var dashes = 0
            var index = start
            while index < input.count {
                let byte = input[index]
                switch state {
                case .data:
                    if byte == ASCII.lessThan {
                        if isEndTag(script, at: index) { return index }
                        if starts(with: "<!--", at: index) {
                            state = .escaped
                            dashes = 2
                            index += 4
                            continue
                        }
                    }
                case .escaped, .doubleEscaped:
                    if byte == ASCII.dash {
                        dashes += 1
                        index += 1
                        continue
                    }
                    if byte == ASCII.greaterThan, dashes >= 2 {
                        state = .data
                    } else if byte == ASCII.lessThan {
                        if state == .escaped {
                            if isEndTag(script, at: index) { return index }
                            if isStartTag(script, at: index) {
                                state = .doubleEscaped
                                index += 1 + script.count
                                dashes = 0
                                continue
                            }
                        } else if isEndTag(script, at: index) {
                            state = .escaped
                            index += 2 + script.count
                            dashes = 0
                            continue
                        }
                    }
                    dashes = 0
                }
                index += 1
            }
            return nil
        }

        /// Whether `<name` followed by whitespace, `/` or `>` starts at `index`.
        private func isStartTag(_ name: [UInt8], at index: Int) -> Bool {
            let after = index + 1 + name.count
            guard after < input.count else { return false }
            for offset in 0..<name.count where ASCII.lowercased(input[index + 1 + offset]) != name[offset] {
                return false
            }
            let byte = input[after]
            return ASCII.isWhitespace(byte) || byte == ASCII.slash || byte == ASCII.greaterThan
        }
    }
}

// MARK: - Output

extension HTMLSanitizer {
    /// What the tree builder writes: sanitised HTML or plain text.
    fileprivate enum OutputMode {
        case html
        case text
    }

    /// The block elements of the output.
    fileprivate enum BlockKind: Equatable {
        case paragraph
        case preformatted
        case quote
        case list(ordered: Bool)
        case item
    }

    /// The inline elements of the output; a link carries its checked, percent-encoded href.
    fileprivate enum InlineKind: Equatable {
        case emphasis
        case strong
        case code
        case link([UInt8])
    }

    /// Feeds one or two writers from the same tree builder, so one parse can give both forms.
    fileprivate struct Output {
        private var first: OutputWriter
        private var second: OutputWriter?

        init(html first: OutputWriter, text second: OutputWriter?) {
            self.first = first
            self.second = second
        }

        mutating func open(_ kind: BlockKind) {
            first.open(kind)
            second?.open(kind)
        }

        mutating func close(_ kind: BlockKind) {
            first.close(kind)
            second?.close(kind)
        }

        mutating func open(_ kind: InlineKind) {
            first.open(kind)
            second?.open(kind)
        }

        mutating func close(_ kind: InlineKind) {
            first.close(kind)
            second?.close(kind)
        }

        mutating func lineBreak() {
            first.lineBreak()
            second?.lineBreak()
        }

        mutating func text(_ text: ArraySlice<UInt8>, verbatim: Bool) {
            first.text(text, verbatim: verbatim)
            second?.text(text, verbatim: verbatim)
        }

        /// The first writer's output.
        mutating func finish() -> String {
            first.finish()
        }

        /// Both writers' output.
        mutating func finishBoth() -> (html: String, text: String) {
            (first.finish(), second?.finish() ?? "")
        }
    }

    /// Accumulates the output as UTF-8. In HTML mode markup comes only from literals and everything
    /// else goes through `escaped`; the layout matches `Markdown`'s writer.
    fileprivate struct OutputWriter {
        let mode: OutputMode
        private var bytes: [UInt8] = []
        /// Text mode: a newline right after `<pre>` is not content, as in browsers.
        private var atPreStart = false

        init(mode: OutputMode) {
            self.mode = mode
        }

        /// Opens a block.
        mutating func open(_ kind: BlockKind) {
            switch mode {
            case .html:
                newline()
                switch kind {
                case .paragraph: raw("<p>")
                case .preformatted: raw("<pre>")
                case .quote:
                    raw("<blockquote>")
                    newline()
                case .list(let ordered):
                    raw(ordered ? "<ol>" : "<ul>")
                    newline()
                case .item: raw("<li>")
                }
            case .text:
                if kind == .item { endLine() } else { separateParagraph() }
                atPreStart = kind == .preformatted
            }
        }

        /// Closes a block.
        mutating func close(_ kind: BlockKind) {
            switch mode {
            case .html:
                switch kind {
                case .paragraph: raw("</p>")
                case .preformatted: raw("</pre>")
                case .quote:
                    newline()
                    raw("</blockquote>")
                case .list(let ordered):
                    newline()
                    raw(ordered ? "</ol>" : "</ul>")
                case .item: raw("</li>")
                }
                newline()
            case .text:
                if kind == .item { endLine() } else { separateParagraph() }
                atPreStart = false
            }
        }

        /// Opens an inline element.
        mutating func open(_ kind: InlineKind) {
            guard mode == .html else { return }
            switch kind {
            case .emphasis: raw("<em>")
            case .strong: raw("<strong>")
            case .code: raw("<code>")
            case .link(let href):
                raw("<a href=\"")
                escaped(href[...])
                raw("\" rel=\"nofollow ugc noopener\">")
            }
        }

        /// Closes an inline element.
        mutating func close(_ kind: InlineKind) {
            guard mode == .html else { return }
            switch kind {
            case .emphasis: raw("</em>")
            case .strong: raw("</strong>")
            case .code: raw("</code>")
            case .link: raw("</a>")
            }
        }

        /// A line break: `<br>` and a newline, like `Markdown`.
        mutating func lineBreak() {
            switch mode {
            case .html:
                raw("<br>\n")
            case .text:
                trimTrailingSpaces()
                bytes.append(ASCII.lineFeed)
            }
        }

        /// Text; outside `<pre>` (`verbatim` false) plain text collapses runs of spaces.
        mutating func text(_ text: ArraySlice<UInt8>, verbatim: Bool) {
            switch mode {
            case .html:
                escaped(text)
            case .text where verbatim:
                var text = text
                if atPreStart, text.first == ASCII.lineFeed { text = text.dropFirst() }
                atPreStart = false
                bytes.append(contentsOf: text)
            case .text:
                atPreStart = false
                for byte in text {
                    if ASCII.isWhitespace(byte) {
                        if let last = bytes.last, last != ASCII.space, last != ASCII.lineFeed {
                            bytes.append(ASCII.space)
                        }
                    } else {
                        bytes.append(byte)
                    }
                }
            }
        }

        /// The output, without trailing newlines (and in text mode without trailing spaces).
        mutating func finish() -> String {
            while let last = bytes.last, last == ASCII.lineFeed || (mode == .text && ASCII.isWhitespace(last)) {
                bytes.removeLast()
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        private mutating func raw(_ markup: StaticString) {
            markup.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        /// Starts a new line unless at the start of one, as `Markdown`'s writer does between blocks.
        private mutating func newline() {
            if let last = bytes.last, last != ASCII.lineFeed {
                bytes.append(ASCII.lineFeed)
            }
        }

        /// Escapes for element content and double-quoted attribute values, exactly as `Markdown` does.
        private mutating func escaped(_ text: ArraySlice<UInt8>) {
            let special: (UInt8) -> Bool = {
                $0 == ASCII.ampersand || $0 == ASCII.lessThan || $0 == ASCII.greaterThan || $0 == ASCII.quote || $0 == ASCII.apostrophe
            }
            guard text.contains(where: special) else {
                bytes.append(contentsOf: text)
                return
            }
            for byte in text {
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

        private mutating func trimTrailingSpaces() {
            while let last = bytes.last, last == ASCII.space || last == ASCII.tab || last == ASCII.formFeed {
                bytes.removeLast()
            }
        }

        private mutating func endLine() {
            trimTrailingSpaces()
            if let last = bytes.last, last != ASCII.lineFeed { bytes.append(ASCII.lineFeed) }
        }

        private mutating func separateParagraph() {
            endLine()
            guard !bytes.isEmpty else { return }
            if bytes.count < 2 || bytes[bytes.count - 2] != ASCII.lineFeed { bytes.append(ASCII.lineFeed) }
        }
    }
}

// MARK: - Tree builder

extension HTMLSanitizer {
    /// An element whose whole content is dropped; `foreign` for svg and math, whose content follows
    /// XML-like rules until a known HTML tag breaks out of it.
    fileprivate struct DroppedElement {
        let name: String
        let foreign: Bool
    }

    /// An open block; items remember whether they hold text and whether their text goes in paragraphs.
    fileprivate struct Block {
        let kind: BlockKind
        /// Opened by the sanitiser (a list around a stray `<li>`, an item around text in a list).
        let implicit: Bool
        var hasContent = false
        /// In an item: inline content is wrapped in `<p>` (after an explicit `<p>` or a paragraph break).
        var paragraphMode = false
    }

    /// An inline element that is open in the input; `isOpen` says whether its tag has been written in
    /// the current block. Like a browser's list of active formatting elements, the ones still open
    /// at a block boundary are reopened inside the next block when content arrives there.
    fileprivate struct Inline {
        let kind: InlineKind
        /// The input tag name (`b`, `strong`…), which its end tag must match.
        let source: String
        var isOpen = false
    }

    /// Builds the output from tokens: keeps the allow-listed elements, makes their nesting valid,
    /// wraps loose text in paragraphs and turns newlines in text into breaks and paragraphs.
    fileprivate struct TreeBuilder {
        private static let rawTextDropped: Set<String> = [
            "style", "iframe", "noembed", "noframes", "noscript", "textarea", "title",
        ]
        private static let droppedContainers: Set<String> = ["template", "object", "applet", "select"]
        /// Start tags that end svg and math content (the HTML spec's breakout list).
        private static let breakout: Set<String> = [
            "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em", "embed",
            "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing", "menu", "meta", "nobr",
            "ol", "p", "pre", "ruby", "s", "small", "span", "strike", "strong", "sub", "sup", "table", "tt", "u",
            "ul", "var",
        ]
        /// Elements allowed in a document's head; anything else ends it.
        private static let headContent: Set<String> = [
            "base", "basefont", "bgsound", "link", "meta", "title", "noscript", "noframes", "style", "script",
            "template",
        ]
        /// Block-level elements that are not kept but still separate paragraphs.
        private static let boundaries: Set<String> = [
            "address", "article", "aside", "caption", "center", "dd", "details", "dialog", "div", "dl", "dt",
            "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
            "hgroup", "hr", "legend", "main", "nav", "search", "section", "summary", "table", "tbody", "td",
            "tfoot", "th", "thead", "tr",
        ]

        fileprivate var out: Output
        private var blocks: [Block] = []
        private var inlines: [Inline] = []
        private var dropped: [DroppedElement] = []
        /// Set once anything but html/head has been seen; a later `<head>` is ignored, as in browsers.
        private var bodyStarted = false

        // Whitespace between pieces of content waits here until the next content shows what it means.
        private var pendingSpaces: [UInt8] = []
        private var pendingNewlines = 0
        /// Right after a `<br>`: the newline that usually follows it in the source is the same break.
        private var afterBreak = false
        /// At the start of a line (block start or after a break), where leading spaces are dropped.
        private var lineStart = true
        /// The current block has content, so a newline becomes a `<br>`.
        private var blockHasContent = false

        init(output: Output) {
            out = output
        }

        /// Inside svg or math, where `<![CDATA[` is a real CDATA section.
        var inForeignContent: Bool { dropped.last?.foreign ?? false }

        // MARK: Tokens

        /// Decoded text.
        mutating func text(_ text: [UInt8]) {
            guard !text.isEmpty else { return }
            if let top = dropped.last {
                // Only the head has an end that text can cause.
                guard top.name == "head", text.contains(where: { !ASCII.isWhitespace($0) }) else { return }
                dropped.removeLast()
                guard dropped.isEmpty else { return }
            }
            if blocks.last?.kind == .preformatted {
                bodyStarted = true
                reconstructInlines()
                out.text(text[...], verbatim: true)
                contentWritten()
                return
            }
            var index = 0
            while index < text.count {
                let byte = text[index]
                if ASCII.isWhitespace(byte) {
                    if byte == ASCII.lineFeed { pendingNewlines += 1 } else { pendingSpaces.append(byte) }
                    index += 1
                    continue
                }
                // Words joined by single spaces go out as one run: the same output as word by
                // word, without the per-word bookkeeping.
                var end = index + 1
                while end < text.count {
                    if !ASCII.isWhitespace(text[end]) {
                        end += 1
                    } else if text[end] == ASCII.space, end + 1 < text.count, !ASCII.isWhitespace(text[end + 1]) {
                        end += 2
                    } else {
                        break
                    }
                }
                bodyStarted = true
                beginContent()
                out.text(text[index..<end], verbatim: false)
                contentWritten()
                index = end
            }
        }

        /// A start tag; returns how the tokenizer must read the element's content.
        mutating func startTag(_ tag: StartTag) -> ContentModel {
            let name = tag.name
            if !dropped.isEmpty { return droppedStartTag(tag) }
            if name != "html", name != "head" { bodyStarted = true }
            switch name {
            case "script":
                return .script
            case _ where Self.rawTextDropped.contains(name):
                return .rawText(name: Array(name.utf8), keep: false)
            case "xmp":
                openPreformatted()
                return .rawText(name: Array(name.utf8), keep: true)
            case "plaintext":
                openPreformatted()
                return .plaintext(keep: true)
            case _ where Self.droppedContainers.contains(name):
                pushDropped(name, foreign: false)
            case "svg", "math":
                // `<svg/>` is complete: foreign elements honour the self-closing flag.
                if !tag.selfClosing { pushDropped(name, foreign: true) }
            case "head":
                if !bodyStarted { pushDropped(name, foreign: false) }
            case "p":
                closeParagraph()
                if blocks.last?.kind == .item { blocks[blocks.count - 1].paragraphMode = true }
            case "br":
                lineBreakTag()
            case "pre", "listing":
                openPreformatted()
            case "blockquote":
                openQuote()
            case "ul", "menu", "dir":
                openList(ordered: false)
            case "ol":
                openList(ordered: true)
            case "li":
                openItem()
            case "em", "i":
                openInline(.emphasis, source: name)
            case "strong", "b":
                openInline(.strong, source: name)
            case "code":
                openInline(.code, source: name)
            case "a":
                // A link never contains a link: a new `<a>` ends the open one, as in browsers.
                closeInline(source: "a")
                if let href = tag.href, let checked = LinkPolicy.href(href) {
                    openInline(.link(checked), source: "a")
                }
            case _ where Self.boundaries.contains(name):
                paragraphBreak()
            default:
                break
            }
            return .markup
        }

        /// An end tag.
        mutating func endTag(_ name: String) {
            if !dropped.isEmpty {
                droppedEndTag(name)
                return
            }
            switch name {
            case "p":
                paragraphBreak()
            case "br":
                lineBreakTag()  // browsers read `</br>` as `<br>`
            case "pre", "listing", "xmp", "plaintext":
                closeBlock(where: { $0.kind == .preformatted })
            case "blockquote":
                closeBlock(where: { $0.kind == .quote })
            case "ul", "menu", "dir":
                closeBlock(where: { $0.kind == .list(ordered: false) })
            case "ol":
                closeBlock(where: { $0.kind == .list(ordered: true) })
            case "li":
                closeItem()
            case "em", "i", "strong", "b", "code", "a":
                closeInline(source: name)
            case _ where Self.boundaries.contains(name):
                paragraphBreak()
            default:
                break
            }
        }

        /// Closes everything and returns the output.
        mutating func finish() -> String {
            closeAll()
            return out.finish()
        }

        /// Closes every open block and inline element.
        mutating func closeAll() {
            while !blocks.isEmpty {
                popBlock()
            }
            inlines.removeAll()
        }

        // MARK: Dropped content

        private mutating func pushDropped(_ name: String, foreign: Bool) {
            guard dropped.count < HTMLSanitizer.maxDroppedDepth else { return }
            dropped.append(DroppedElement(name: name, foreign: foreign))
        }

        private mutating func droppedStartTag(_ tag: StartTag) -> ContentModel {
            let name = tag.name
            guard let top = dropped.last else { return .markup }
            if top.foreign {
                if Self.breakout.contains(name) {
                    popForeign()
                    return startTag(tag)
                }
                if name == "svg" || name == "math", !tag.selfClosing { pushDropped(name, foreign: true) }
                return .markup  // in svg and math, script and style are not raw text
            }
            if top.name == "head", name != "head", !Self.headContent.contains(name) {
                dropped.removeLast()
                return startTag(tag)
            }
            if top.name == "select" {
                if name == "select" {
                    dropped.removeLast()  // a nested `<select>` acts as `</select>`
                    return .markup
                }
                if name == "input" || name == "keygen" || name == "textarea" {
                    dropped.removeLast()
                    return startTag(tag)
                }
            }
            switch name {
            case "script":
                return .script
            case "xmp":
                return .rawText(name: Array(name.utf8), keep: false)
            case "plaintext":
                return .plaintext(keep: false)
            case _ where Self.rawTextDropped.contains(name):
                return .rawText(name: Array(name.utf8), keep: false)
            case _ where Self.droppedContainers.contains(name):
                pushDropped(name, foreign: false)
            case "svg", "math":
                if !tag.selfClosing { pushDropped(name, foreign: true) }
            default:
                break
            }
            return .markup
        }

        private mutating func droppedEndTag(_ name: String) {
            guard let top = dropped.last else { return }
            if top.foreign, name == "p" || name == "br" {
                popForeign()
                endTag(name)
                return
            }
            if top.name == "head" {
                if name == "head" {
                    dropped.removeLast()
                } else if name == "body" || name == "html" || name == "br" {
                    dropped.removeLast()
                    endTag(name)
                }
                return
            }
            if let index = dropped.lastIndex(where: { $0.name == name }) {
                dropped.removeSubrange(index...)
            }
        }

        private mutating func popForeign() {
            while let last = dropped.last, last.foreign {
                dropped.removeLast()
            }
        }

        // MARK: Inline elements

        private mutating func openInline(_ kind: InlineKind, source: String) {
            guard inlines.count < HTMLSanitizer.maxInlineDepth else { return }
            inlines.append(Inline(kind: kind, source: source))
        }

        /// Ends the innermost open element named `source`; elements opened inside it end too and are
        /// reopened at the next content (how browsers repair `<b><i></b></i>`).
        private mutating func closeInline(source: String) {
            guard let index = inlines.lastIndex(where: { $0.source == source }) else { return }
            for position in stride(from: inlines.count - 1, through: index, by: -1) where inlines[position].isOpen {
                out.close(inlines[position].kind)
                inlines[position].isOpen = false
            }
            inlines.remove(at: index)
        }

        /// Writes the tags of open inline elements not yet opened in this block.
        private mutating func reconstructInlines() {
            for index in inlines.indices where !inlines[index].isOpen {
                out.open(inlines[index].kind)
                inlines[index].isOpen = true
            }
        }

        /// Closes the inline tags written in the current block, which is ending or getting a child.
        /// Emphasis and code carry on into the next block, as in browsers; a link that has been
        /// written ends here. Reopening a link in every later block would copy its href once per
        /// block, so a long href before many short paragraphs would make the output quadratic.
        private mutating func closeInlineTags() {
            for index in inlines.indices.reversed() where inlines[index].isOpen {
                out.close(inlines[index].kind)
                inlines[index].isOpen = false
                if case .link = inlines[index].kind { inlines.remove(at: index) }
            }
        }

        // MARK: Blocks

        private mutating func pushBlock(_ kind: BlockKind, implicit: Bool = false) {
            closeInlineTags()
            out.open(kind)
            blocks.append(Block(kind: kind, implicit: implicit))
            resetLine()
        }

        private mutating func popBlock() {
            guard let block = blocks.popLast() else { return }
            closeInlineTags()
            out.close(block.kind)
            resetLine()
        }

        private mutating func resetLine() {
            pendingSpaces.removeAll()
            pendingNewlines = 0
            afterBreak = false
            lineStart = true
            blockHasContent = false
        }

        private mutating func closeBlock(where matches: (Block) -> Bool) {
            guard let index = blocks.lastIndex(where: matches) else { return }
            while blocks.count > index {
                popBlock()
            }
        }

        /// `</li>` closes the innermost item unless a list lies between (the HTML "list item scope").
        private mutating func closeItem() {
            for index in blocks.indices.reversed() {
                switch blocks[index].kind {
                case .item:
                    while blocks.count > index {
                        popBlock()
                    }
                    return
                case .list:
                    return
                default:
                    continue
                }
            }
        }

        private mutating func closeParagraph() {
            if blocks.last?.kind == .paragraph {
                popBlock()
            } else {
                pendingSpaces.removeAll()
                pendingNewlines = 0
            }
        }

        /// A blank line, `</p>` or a block-level tag that is not kept: ends the paragraph; in a list
        /// item with text, what follows goes in a paragraph of its own.
        private mutating func paragraphBreak() {
            closeParagraph()
            if let last = blocks.last, last.kind == .item, last.hasContent {
                blocks[blocks.count - 1].paragraphMode = true
            }
        }

        /// Makes the current block one that can hold a block: a list gets an item first, and a list the
        /// sanitiser opened around stray items ends.
        private mutating func prepareBlockParent() {
            while let top = blocks.last, case .list = top.kind {
                if top.implicit {
                    popBlock()
                } else {
                    pushBlock(.item, implicit: true)
                    return
                }
            }
        }

        /// Whether `count` more blocks fit under `maxBlockDepth`.
        private func fits(_ count: Int) -> Bool {
            blocks.count + count <= HTMLSanitizer.maxBlockDepth
        }

        private mutating func openPreformatted() {
            closeParagraph()
            guard blocks.last?.kind != .preformatted else { return }
            prepareBlockParent()
            if fits(1) { pushBlock(.preformatted) }
        }

        private mutating func openQuote() {
            closeParagraph()
            guard blocks.last?.kind != .preformatted else { return }
            prepareBlockParent()
            if fits(2) { pushBlock(.quote) }  // room for the quote and a paragraph in it
        }

        private mutating func openList(ordered: Bool) {
            closeParagraph()
            guard blocks.last?.kind != .preformatted else { return }
            prepareBlockParent()
            if fits(3) { pushBlock(.list(ordered: ordered)) }  // and an item and a paragraph
        }

        /// `<li>` ends an open item in the same list; outside a list it gets one of its own.
        private mutating func openItem() {
            closeParagraph()
            guard let top = blocks.last else {
                if fits(3) {
                    pushBlock(.list(ordered: false), implicit: true)
                    pushBlock(.item)
                }
                return
            }
            switch top.kind {
            case .preformatted:
                return
            case .item:
                popBlock()
                openItem()
            case .list:
                if fits(2) { pushBlock(.item) }
            case .quote, .paragraph:
                if fits(3) {
                    pushBlock(.list(ordered: false), implicit: true)
                    pushBlock(.item)
                }
            }
        }

        /// Makes the current block one that takes inline content: a paragraph where text needs one,
        /// an item in a list, and no list the sanitiser opened around stray items.
        private mutating func ensureInlineContainer() {
            while true {
                guard let top = blocks.last else {
                    pushBlock(.paragraph)
                    return
                }
                switch top.kind {
                case .paragraph, .preformatted:
                    return
                case .quote:
                    pushBlock(.paragraph)
                    return
                case .item:
                    if top.paragraphMode { pushBlock(.paragraph) }
                    return
                case .list:
                    if top.implicit { popBlock() } else { pushBlock(.item, implicit: true) }
                }
            }
        }

        // MARK: Text and breaks

        /// Settles the pending whitespace before a piece of content: two or more newlines end the
        /// paragraph, one becomes a `<br>`, spaces stay unless a line starts here.
        private mutating func beginContent() {
            let newlines = max(0, pendingNewlines - (afterBreak ? 1 : 0))
            let spaces = pendingNewlines == 0 ? pendingSpaces : []
            if newlines >= 2 {
                paragraphBreak()
            } else if newlines == 1, blockHasContent {
                out.lineBreak()
                lineStart = true
            }
            ensureInlineContainer()
            if !spaces.isEmpty, !lineStart { out.text(spaces[...], verbatim: false) }
            reconstructInlines()
            pendingSpaces.removeAll()
            pendingNewlines = 0
        }

        private mutating func contentWritten() {
            lineStart = false
            afterBreak = false
            blockHasContent = true
            if !blocks.isEmpty { blocks[blocks.count - 1].hasContent = true }
        }

        /// `<br>`: the whitespace before it goes (a blank line still ends the paragraph first).
        private mutating func lineBreakTag() {
            if blocks.last?.kind == .preformatted {
                // In `<pre>` a newline is the same break, and survives a second pass unchanged.
                text([ASCII.lineFeed])
                return
            }
            let newlines = max(0, pendingNewlines - (afterBreak ? 1 : 0))
            if newlines >= 2 { paragraphBreak() }
            pendingSpaces.removeAll()
            pendingNewlines = 0
            ensureInlineContainer()
            out.lineBreak()
            contentWritten()
            lineStart = true
            afterBreak = true
        }
    }
}
