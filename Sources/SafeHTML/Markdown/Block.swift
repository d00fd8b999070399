extension Markdown {
    /// A parsed block. Container nesting is bounded by `Markdown.maxBlockDepth`.
    enum Block {
        /// Inline source: the paragraph's lines, trimmed, joined with LF.
        case paragraph([UInt8])
        case code(language: [UInt8]?, body: [UInt8])
        case quote([Block])
        case list(ListBlock)
    }
}

extension Markdown {
    /// A bullet or ordered list and its items' blocks.
    struct ListBlock {
        let ordered: Bool
        let start: Int
        let tight: Bool
        let items: [[Block]]
    }
}

extension Markdown {
    /// A fenced code block's opening fence.
    struct Fence {
        let marker: UInt8
        let length: Int
        let indent: Int
        let language: [UInt8]?
    }
}

extension Markdown {
    /// A list item's marker, as found at the start of a line.
    struct ListMarker {
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
