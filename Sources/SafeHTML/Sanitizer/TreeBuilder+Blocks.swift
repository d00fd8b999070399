/// Opening and closing blocks so that their nesting is always valid.
extension HTMLSanitizer.TreeBuilder {
    mutating func pushBlock(_ kind: HTMLWriter.BlockElement, implicit: Bool = false) {
        closeInlineTags()
        out.open(kind)
        blocks.append(HTMLSanitizer.Block(kind: kind, implicit: implicit))
        resetLine()
    }

    mutating func popBlock() {
        guard let block = blocks.popLast() else { return }
        closeInlineTags()
        out.close(block.kind)
        resetLine()
    }

    mutating func resetLine() {
        pendingSpaces.removeAll()
        pendingNewlines = 0
        afterBreak = false
        lineStart = true
        blockHasContent = false
    }

    mutating func closeBlock(where matches: (HTMLSanitizer.Block) -> Bool) {
        guard let index = blocks.lastIndex(where: matches) else { return }
        while blocks.count > index {
            popBlock()
        }
    }

    /// `</li>` closes the innermost item unless a list lies between (the HTML "list item scope").
    mutating func closeItem() {
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

    mutating func closeParagraph() {
        if blocks.last?.kind == .paragraph {
            popBlock()
        } else {
            pendingSpaces.removeAll()
            pendingNewlines = 0
        }
    }

    /// A blank line, `</p>` or a block-level tag that is not kept: ends the paragraph; in a list
    /// item with text, what follows goes in a paragraph of its own.
    mutating func paragraphBreak() {
        closeParagraph()
        if let last = blocks.last, last.kind == .item, last.hasContent {
            blocks[blocks.count - 1].paragraphMode = true
        }
    }

    /// Makes the current block one that can hold a block: a list gets an item first, and a list the
    /// sanitiser opened around stray items ends.
    mutating func prepareBlockParent() {
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
    func fits(_ count: Int) -> Bool {
        blocks.count + count <= HTMLSanitizer.maxBlockDepth
    }

    mutating func openPreformatted() {
        closeParagraph()
        guard blocks.last?.kind != .preformatted else { return }
        prepareBlockParent()
        if fits(1) { pushBlock(.preformatted) }
    }

    mutating func openQuote() {
        closeParagraph()
        guard blocks.last?.kind != .preformatted else { return }
        prepareBlockParent()
        if fits(2) { pushBlock(.quote) }  // room for the quote and a paragraph in it
    }

    mutating func openList(ordered: Bool) {
        closeParagraph()
        guard blocks.last?.kind != .preformatted else { return }
        prepareBlockParent()
        if fits(3) { pushBlock(.list(ordered: ordered)) }  // and an item and a paragraph
    }

    /// `<li>` ends an open item in the same list; outside a list it gets one of its own.
    mutating func openItem() {
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
    mutating func ensureInlineContainer() {
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
}
