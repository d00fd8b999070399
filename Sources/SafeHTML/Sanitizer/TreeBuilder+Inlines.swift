/// Inline elements, text and line breaks.
extension HTMLSanitizer.TreeBuilder {
    mutating func openInline(_ kind: HTMLWriter.InlineElement, source: String) {
        guard inlines.count < HTMLSanitizer.maxInlineDepth else { return }
        inlines.append(HTMLSanitizer.Inline(kind: kind, source: source))
    }

    /// Ends the innermost open element named `source`; elements opened inside it end too and are
    /// reopened at the next content (how browsers repair `<b><i></b></i>`).
    mutating func closeInline(source: String) {
        guard let index = inlines.lastIndex(where: { $0.source == source }) else { return }
        for position in stride(from: inlines.count - 1, through: index, by: -1) where inlines[position].isOpen {
            out.close(inlines[position].kind)
            inlines[position].isOpen = false
        }
        inlines.remove(at: index)
    }

    /// Writes the tags of open inline elements not yet opened in this block.
    mutating func reconstructInlines() {
        for index in inlines.indices where !inlines[index].isOpen {
            out.open(inlines[index].kind)
            inlines[index].isOpen = true
        }
    }

    /// Closes the inline tags written in the current block, which is ending or getting a child.
    /// Emphasis and code carry on into the next block, as in browsers; a link that has been
    /// written ends here. Reopening a link in every later block would copy its href once per
    /// block, so a long href before many short paragraphs would make the output quadratic.
    mutating func closeInlineTags() {
        for index in inlines.indices.reversed() where inlines[index].isOpen {
            out.close(inlines[index].kind)
            inlines[index].isOpen = false
            if case .link = inlines[index].kind { inlines.remove(at: index) }
        }
    }

    /// Settles the pending whitespace before a piece of content: two or more newlines end the
    /// paragraph, one becomes a `<br>`, spaces stay unless a line starts here.
    mutating func beginContent() {
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

    mutating func contentWritten() {
        lineStart = false
        afterBreak = false
        blockHasContent = true
        if !blocks.isEmpty { blocks[blocks.count - 1].hasContent = true }
    }

    /// `<br>`: the whitespace before it goes (a blank line still ends the paragraph first).
    mutating func lineBreakTag() {
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
