/// Questions about one line: its indentation, and which block it would start or interrupt.
extension Markdown.BlockParser {
    /// The first byte at or after the line's position that is not a space or tab (or the line's
    /// end), and its column.
    func firstNonSpace(_ line: Markdown.Line) -> (index: Int, column: Int) {
        if line.position <= line.indentEnd { return (line.indentEnd, line.indentEndColumn) }
        return skipSpaces(from: line.position, column: line.column, end: line.end)
    }

    func skipSpaces(from start: Int, column startColumn: Int, end: Int) -> (index: Int, column: Int) {
        var index = start
        var column = startColumn
        while index < end {
            let byte = source.bytes[index]
            if byte == ASCII.space {
                column += 1
            } else if byte == ASCII.tab {
                column += 4 - column % 4
            } else {
                break
            }
            index += 1
        }
        return (index, column)
    }

    func isBlank(_ line: Markdown.Line) -> Bool { firstNonSpace(line).index >= line.end }

    /// Leading whitespace of the line, in columns.
    func indent(_ line: Markdown.Line) -> Int {
        line.virtualSpaces + firstNonSpace(line).column - line.column
    }

    /// Consumes up to `columns` columns of leading whitespace, splitting a tab if needed.
    func advance(_ line: inout Markdown.Line, columns: Int) {
        var remaining = columns
        let fromVirtual = min(remaining, line.virtualSpaces)
        line.virtualSpaces -= fromVirtual
        remaining -= fromVirtual
        while remaining > 0, line.position < line.end {
            let byte = source.bytes[line.position]
            if byte == ASCII.space {
                line.position += 1
                line.column += 1
                remaining -= 1
            } else if byte == ASCII.tab {
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
    func line(_ line: Markdown.Line, from index: Int, offset: Int) -> Markdown.Line {
        var rest = line
        rest.column = firstNonSpace(line).column + offset
        rest.position = index
        rest.virtualSpaces = 0
        return rest
    }

    func appendContent(of line: Markdown.Line, to buffer: inout [UInt8]) {
        for _ in 0..<line.virtualSpaces {
            buffer.append(ASCII.space)
        }
        buffer.append(contentsOf: source.bytes[line.position..<line.end])
    }

    func isQuoteStart(_ line: Markdown.Line) -> Bool {
        let first = firstNonSpace(line).index
        return first < line.end && indent(line) <= 3 && source.bytes[first] == ASCII.greaterThan
    }

    /// `***`, `- - -`, `___`: no `<hr>` in comments, but such a line must not become a list.
    func isThematicBreak(_ line: Markdown.Line) -> Bool {
        let first = firstNonSpace(line).index
        guard first < line.end, indent(line) <= 3 else { return false }
        let marker = source.bytes[first]
        guard marker == ASCII.dash || marker == ASCII.star || marker == ASCII.underscore else { return false }
        var count = 0
        for byte in source.bytes[first..<line.end] {
            if byte == marker {
                count += 1
            } else if !ASCII.isSpaceOrTab(byte) {
                return false
            }
        }
        return count >= 3
    }

    func fenceOpening(_ line: Markdown.Line) -> Markdown.Fence? {
        let bytes = source.bytes
        let first = firstNonSpace(line).index
        guard first < line.end, indent(line) <= 3 else { return nil }
        let marker = bytes[first]
        guard marker == ASCII.backtick || marker == ASCII.tilde else { return nil }
        var end = first
        while end < line.end, bytes[end] == marker {
            end += 1
        }
        guard end - first >= 3 else { return nil }
        if marker == ASCII.backtick, bytes[end..<line.end].contains(ASCII.backtick) { return nil }
        let infoStart = skipSpaces(from: end, column: 0, end: line.end).index
        var infoEnd = infoStart
        while infoEnd < line.end, !ASCII.isSpaceOrTab(bytes[infoEnd]) {
            infoEnd += 1
        }
        let word = bytes[infoStart..<infoEnd]
        let language = !word.isEmpty && word.allSatisfy(ASCII.isLanguageName) ? Array(word) : nil
        return Markdown.Fence(marker: marker, length: end - first, indent: indent(line), language: language)
    }

    func isFenceClosing(_ line: Markdown.Line, for fence: Markdown.Fence) -> Bool {
        let first = firstNonSpace(line).index
        guard first < line.end, indent(line) <= 3 else { return false }
        var end = first
        while end < line.end, source.bytes[end] == fence.marker {
            end += 1
        }
        return end - first >= fence.length && skipSpaces(from: end, column: 0, end: line.end).index >= line.end
    }

    func listMarker(_ line: Markdown.Line) -> Markdown.ListMarker? {
        let bytes = source.bytes
        let first = firstNonSpace(line).index
        let lineIndent = indent(line)
        guard first < line.end, lineIndent <= 3 else { return nil }
        var end = first
        var ordered = false
        var start = 1
        let delimiter: UInt8
        let lead = bytes[first]
        if lead == ASCII.dash || lead == ASCII.star || lead == ASCII.plus {
            delimiter = lead
            end += 1
        } else if ASCII.isDigit(lead) {
            var value = 0
            // At most nine digits, as in CommonMark, so the value always fits.
            while end < line.end, end - first < 9, ASCII.isDigit(bytes[end]) {
                value = value * 10 + Int(bytes[end] - 0x30)
                end += 1
            }
            guard end < line.end, bytes[end] == ASCII.dot || bytes[end] == ASCII.rightParen else { return nil }
            delimiter = bytes[end]
            end += 1
            ordered = true
            start = value
        } else {
            return nil
        }
        guard end == line.end || ASCII.isSpaceOrTab(bytes[end]) else { return nil }
        let width = end - first
        var content = self.line(line, from: end, offset: width)
        if isBlank(content) {
            content.position = line.end
            return Markdown.ListMarker(ordered: ordered, delimiter: delimiter, start: start,
                              contentIndent: lineIndent + width + 1, content: content, isEmpty: true)
        }
        let gap = indent(content)
        // Five or more spaces after the marker: the content is indented code one column in.
        let consumed = gap >= 5 ? 1 : gap
        advance(&content, columns: consumed)
        return Markdown.ListMarker(ordered: ordered, delimiter: delimiter, start: start,
                          contentIndent: lineIndent + width + consumed, content: content, isEmpty: false)
    }

    /// Whether the line ends a paragraph that it follows, rather than continuing it.
    func interruptsParagraph(_ line: Markdown.Line, depth: Int) -> Bool {
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
    func startsBlock(_ line: Markdown.Line) -> Bool {
        guard indent(line) <= 3 else { return false }
        return fenceOpening(line) != nil || isQuoteStart(line) || isThematicBreak(line) || listMarker(line) != nil
    }

    /// Where a container's paragraph stands after a line: closed, open directly in the container,
    /// or open inside a nested container, where only lazy continuation lines can reach it.
    enum OpenParagraph {
        case none, direct, nested
    }

    /// The paragraph state after `line`, given the state before it. Nested containers are followed
    /// through their markers; fences inside them are not tracked across lines (the caller tracks
    /// fences at its own level).
    func paragraphState(after line: Markdown.Line, before state: OpenParagraph, depth: Int) -> OpenParagraph {
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
    func stripQuoteMarker(_ line: Markdown.Line) -> Markdown.Line {
        var stripped = self.line(line, from: firstNonSpace(line).index + 1, offset: 1)
        if stripped.position < stripped.end, ASCII.isSpaceOrTab(source.bytes[stripped.position]) {
            advance(&stripped, columns: 1)
        }
        return stripped
    }
}
