/// Links: inline `[text](destination "title")`, `<…>` autolinks and bare URLs, each checked by `URLPolicy`.
extension Markdown.InlineParser {
    /// Handles `]`: forms a link with the nearest `[` if an inline destination follows, else literal text.
    /// Returns the index to continue from.
    mutating func closeBracket(at index: Int) -> Int {
        guard let opener = brackets.last, opener.active, let target = inlineLinkTarget(from: index + 1) else {
            if !brackets.isEmpty { brackets.removeLast() }
            append(.text(index..<index + 1))
            return index + 1
        }
        processEmphasis(above: opener.delimiterBottom)
        let href = URLPolicy.allows(target.destination) ? target.destination : nil
        var link = Markdown.InlineParser.Node(kind: .link(href: href, title: target.title))
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
    func inlineLinkTarget(from start: Int) -> (destination: [UInt8], title: [UInt8]?, end: Int)? {
        let count = source.count
        guard start < count, source[start] == ASCII.leftParen else { return nil }
        var index = skipWhitespace(from: start + 1)
        var destination: [UInt8] = []
        if index < count, source[index] == ASCII.lessThan {
            index += 1
            while true {
                guard index < count else { return nil }
                let byte = source[index]
                if byte == ASCII.greaterThan {
                    index += 1
                    break
                }
                if byte == ASCII.lineFeed || byte == ASCII.lessThan { return nil }
                if byte == ASCII.backslash, index + 1 < count, ASCII.isASCIIPunctuation(source[index + 1]) {
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
                if byte <= ASCII.space || byte == ASCII.delete { break }
                if byte == ASCII.backslash, index + 1 < count, ASCII.isASCIIPunctuation(source[index + 1]) {
                    destination.append(source[index + 1])
                    index += 2
                    continue
                }
                if byte == ASCII.leftParen {
                    depth += 1
                    if depth > 32 { return nil }
                } else if byte == ASCII.rightParen {
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
            case ASCII.quote, ASCII.apostrophe: open
            case ASCII.leftParen: ASCII.rightParen
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
                    if open == ASCII.leftParen, byte == ASCII.leftParen { return nil }
                    if byte == ASCII.backslash, index + 1 < count, ASCII.isASCIIPunctuation(source[index + 1]) {
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
        guard index < count, source[index] == ASCII.rightParen else { return nil }
        return (destination, title, index + 1)
    }

    func skipWhitespace(from start: Int) -> Int {
        var index = start
        while index < source.count,
            source[index] == ASCII.space || source[index] == ASCII.tab || source[index] == ASCII.lineFeed
        {
            index += 1
        }
        return index
    }

    /// `<scheme:…>` or `<local@domain>` at `start`; only allow-listed schemes count as autolinks,
    /// anything else stays escaped text. Scans stop at the next `<` or whitespace, so they are linear overall.
    func autolink(at start: Int) -> (Range<Int>, mailto: Bool, end: Int)? {
        let count = source.count
        let contentStart = start + 1
        guard contentStart < count else { return nil }
        if ASCII.isLetter(source[contentStart]) {
            var schemeEnd = contentStart + 1
            while schemeEnd < count, schemeEnd - contentStart <= 32, ASCII.isSchemeTail(source[schemeEnd]) {
                schemeEnd += 1
            }
            let schemeLength = schemeEnd - contentStart
            if schemeEnd < count, source[schemeEnd] == ASCII.colon, schemeLength >= 2, schemeLength <= 32 {
                var end = schemeEnd + 1
                while end < count, source[end] > ASCII.space, source[end] != ASCII.delete,
                    source[end] != ASCII.lessThan, source[end] != ASCII.greaterThan
                {
                    end += 1
                }
                guard end < count, source[end] == ASCII.greaterThan,
                    URLPolicy.allows(Array(source[contentStart..<end]))
                else { return nil }
                return (contentStart..<end, false, end + 1)
            }
        }
        var at = contentStart
        while at < count, ASCII.isEmailLocal(source[at]) {
            at += 1
        }
        guard at > contentStart, at < count, source[at] == ASCII.at else { return nil }
        // Domain: labels of letters, digits and inner hyphens (at most 63), separated by dots.
        var index = at + 1
        while true {
            let labelStart = index
            while index < count, ASCII.isAlphanumeric(source[index]) || source[index] == ASCII.dash {
                index += 1
            }
            let length = index - labelStart
            guard length >= 1, length <= 63, source[labelStart] != ASCII.dash, source[index - 1] != ASCII.dash,
                index < count
            else { return nil }
            if source[index] == ASCII.dot {
                index += 1
                continue
            }
            guard source[index] == ASCII.greaterThan else { return nil }
            let range = contentStart..<index
            guard URLPolicy.allows(Array("mailto:".utf8) + source[range]) else { return nil }
            return (range, true, index + 1)
        }
    }

    /// A bare `http://` or `https://` URL starting at `start` (GFM extended autolink): it must begin
    /// the text or follow whitespace or one of `*_~(`, needs a dotted domain, and ends at whitespace,
    /// `<`, `>`, brackets, a backtick, `*` or `\`, minus trailing punctuation and unbalanced `)`.
    /// Returns its end.
    func bareURL(at start: Int) -> Int? {
        let count = source.count
        if start > 0 {
            switch source[start - 1] {
            case ASCII.space, ASCII.tab, ASCII.lineFeed, ASCII.star, ASCII.underscore, ASCII.tilde, ASCII.leftParen: break
            default: return nil
            }
        }
        var index = start
        for expected in "http".utf8 {
            guard index < count, ASCII.lowercased(source[index]) == expected else { return nil }
            index += 1
        }
        if index < count, ASCII.lowercased(source[index]) == 0x73 {  // s
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
            if byte <= ASCII.space || byte == ASCII.delete || byte == ASCII.lessThan || byte == ASCII.greaterThan
                || byte == ASCII.leftBracket || byte == ASCII.rightBracket || byte == ASCII.backtick
                || byte == ASCII.star || byte == ASCII.backslash
            {
                break
            }
            end += 1
        }
        var openParens = 0
        var closeParens = 0
        for byte in source[start..<end] {
            if byte == ASCII.leftParen { openParens += 1 } else if byte == ASCII.rightParen { closeParens += 1 }
        }
        while end > domainStart {
            let last = source[end - 1]
            switch last {
            case ASCII.dot, ASCII.comma, ASCII.colon, ASCII.semicolon, ASCII.exclamation, ASCII.question,
                ASCII.star, ASCII.underscore, ASCII.tilde, ASCII.apostrophe, ASCII.quote:
                end -= 1
                continue
            case ASCII.rightParen where closeParens > openParens:
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
            if ASCII.isAlphanumeric(byte) || byte >= 0x80 || byte == ASCII.dash || byte == ASCII.underscore {
                if position > domainStart, source[position - 1] == ASCII.dot, sawText { dottedLabel = true }
                sawText = true
            } else if byte != ASCII.dot {
                break
            }
            position += 1
        }
        guard dottedLabel, URLPolicy.allows(Array(source[start..<end])) else { return nil }
        return end
    }
}
