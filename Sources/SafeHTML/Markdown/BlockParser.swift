extension Markdown {
    /// Splits lines into blocks, recursing into containers up to `Markdown.maxBlockDepth`.
    struct BlockParser {
        let source: SourceText

        /// A parser over `source`.
        init(_ source: SourceText) {
            self.source = source
        }

        /// Parses the whole document into blocks.
        func parseDocument() -> [Block] {
            parseBlocks(source.lines, depth: 0).blocks
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
                body.append(ASCII.lineFeed)
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
                body.append(ASCII.lineFeed)
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
                if index > start { text.append(ASCII.lineFeed) }
                let line = lines[index]
                text.append(contentsOf: source.bytes[firstNonSpace(line).index..<line.end])
            }
            while let last = text.last, ASCII.isSpaceOrTab(last) {
                text.removeLast()
            }
            return (.paragraph(text), end)
        }
    }
}
