extension HTMLSanitizer {
    /// Splits the input into text, tags and ignored markup the way the HTML tokenizer does, and feeds
    /// them to the tree builder, which decides where raw text elements switch the content model.
    struct Tokenizer {
        let input: [UInt8]
        var position = 0

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
        mutating func markup(into builder: inout TreeBuilder) -> Bool {
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
        mutating func unterminatedTag(into builder: inout TreeBuilder) {
            builder.text(CharacterReferences.decode(input[position...], inAttribute: false))
            position = input.count
        }

        func starts(with literal: StaticString, at index: Int) -> Bool {
            literal.withUTF8Buffer { bytes in
                guard index + bytes.count <= input.count else { return false }
                for offset in 0..<bytes.count where input[index + offset] != bytes[offset] {
                    return false
                }
                return true
            }
        }

        /// After `<!--`: ends at `-->` or `--!>`; `<!-->` and `<!--->` are complete comments.
        mutating func skipComment(from start: Int) {
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

        mutating func skipBogusComment(from start: Int) {
            var index = start
            while index < input.count, input[index] != ASCII.greaterThan {
                index += 1
            }
            position = min(index + 1, input.count)
        }

        mutating func skip(past literal: StaticString, from start: Int) {
            var index = start
            while index < input.count, !starts(with: literal, at: index) {
                index += 1
            }
            position = min(index + literal.utf8CodeUnitCount, input.count)
        }

        /// The tag whose name starts at `nameStart`, following the tag name, attribute name and value
        /// states; nil when the input ends inside it.
        func scanTag(nameStart: Int, isEnd: Bool) -> ((name: String, selfClosing: Bool, href: [UInt8]?), Int)? {
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
    }
}
