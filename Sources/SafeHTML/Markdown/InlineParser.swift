extension Markdown {
    /// Parses one paragraph's inline markdown (CommonMark's delimiter-stack algorithm, linear time)
    /// into a node tree and renders it.
    struct InlineParser {
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
        var nodes: [Node] = []
        var rootFirst = -1
        var rootLast = -1
        var delimiters: [Delimiter] = []
        var delimiterTop = -1
        var brackets: [Bracket] = []
        /// For each backtick run length, the start offsets of runs of exactly that length, and a cursor into them.
        var backtickRuns: [Int: (starts: [Int], cursor: Int)] = [:]

        /// Parses `source`, one paragraph's text with lines joined by LF.
        init(_ source: [UInt8]) {
            self.source = source
            indexBacktickRuns()
            parse()
        }

        // MARK: Parsing

        /// One left-to-right pass building nodes, then emphasis resolution over what is left.
        mutating func parse() {
            let count = source.count
            var index = 0
            var textStart = 0

            func flush(_ parser: inout InlineParser, upTo end: Int) {
                if textStart < end { parser.append(.text(textStart..<end)) }
            }

            // Text before a line break loses its trailing spaces and tabs, as in CommonMark.
            func flushBeforeBreak(_ parser: inout InlineParser, upTo end: Int) {
                var trimmed = end
                while trimmed > textStart, ASCII.isSpaceOrTab(parser.source[trimmed - 1]) {
                    trimmed -= 1
                }
                flush(&parser, upTo: trimmed)
            }

            while index < count {
                let byte = source[index]
                switch byte {
                case ASCII.backslash:
                    if index + 1 < count, ASCII.isASCIIPunctuation(source[index + 1]) {
                        flush(&self, upTo: index)
                        append(.text(index + 1..<index + 2))
                        index += 2
                        textStart = index
                    } else if index + 1 < count, source[index + 1] == ASCII.lineFeed {
                        flushBeforeBreak(&self, upTo: index)
                        append(.lineBreak)
                        index += 2
                        textStart = index
                    } else {
                        index += 1
                    }
                case ASCII.lineFeed:
                    flushBeforeBreak(&self, upTo: index)
                    append(.lineBreak)
                    index += 1
                    textStart = index
                case ASCII.backtick:
                    var end = index
                    while end < count, source[end] == ASCII.backtick {
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
                case ASCII.star, ASCII.underscore:
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
                    if byte == ASCII.star {
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
                case ASCII.leftBracket:
                    flush(&self, upTo: index)
                    let node = append(.text(index..<index + 1))
                    brackets.append(Bracket(node: node, delimiterBottom: delimiterTop))
                    index += 1
                    textStart = index
                case ASCII.rightBracket:
                    flush(&self, upTo: index)
                    index = closeBracket(at: index)
                    textStart = index
                case ASCII.lessThan:
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
        mutating func append(_ kind: Node.Kind, count: Int = 0) -> Int {
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
        mutating func unlink(_ index: Int) {
            let previous = nodes[index].previous
            let next = nodes[index].next
            if previous >= 0 { nodes[previous].next = next } else { rootFirst = next }
            if next >= 0 { nodes[next].previous = previous } else { rootLast = previous }
        }

        mutating func pushDelimiter(_ delimiter: Delimiter) {
            var delimiter = delimiter
            let index = delimiters.count
            delimiter.previous = delimiterTop
            delimiters.append(delimiter)
            if delimiterTop >= 0 { delimiters[delimiterTop].next = index }
            delimiterTop = index
        }

        mutating func removeDelimiter(_ index: Int) {
            let previous = delimiters[index].previous
            let next = delimiters[index].next
            if previous >= 0 { delimiters[previous].next = next }
            if next >= 0 { delimiters[next].previous = previous } else { delimiterTop = previous }
        }

        // MARK: Code spans

        /// Records every maximal backtick run so each opener finds its closer without rescanning.
        mutating func indexBacktickRuns() {
            var index = 0
            while index < source.count {
                guard source[index] == ASCII.backtick else {
                    index += 1
                    continue
                }
                var end = index
                while end < source.count, source[end] == ASCII.backtick {
                    end += 1
                }
                backtickRuns[end - index, default: ([], 0)].starts.append(index)
                index = end
            }
        }

        /// The start of the next run of exactly `length` backticks at or after `position`. Openers
        /// are queried in increasing position, so each length's cursor only moves forward.
        mutating func backtickCloser(length: Int, after position: Int) -> Int? {
            guard var runs = backtickRuns[length] else { return nil }
            while runs.cursor < runs.starts.count, runs.starts[runs.cursor] < position {
                runs.cursor += 1
            }
            backtickRuns[length] = runs
            return runs.cursor < runs.starts.count ? runs.starts[runs.cursor] : nil
        }
    }
}
