/// How markdown blocks map onto the writer's elements.
extension HTMLWriter {
    /// Renders markdown blocks; in a tight list, paragraphs lose their `<p>` as in CommonMark.
    mutating func blocks(_ blocks: [Markdown.Block], tight: Bool) {
        for block in blocks {
            switch block {
            case .paragraph(let source):
                if tight {
                    Markdown.InlineParser(source).render(into: &self)
                } else {
                    open(.paragraph)
                    Markdown.InlineParser(source).render(into: &self)
                    close(.paragraph)
                }
            case .code(let language, let body):
                open(.preformatted)
                open(.code(language: language))
                text(body[...])
                close(.code())
                close(.preformatted)
            case .quote(let children):
                open(.quote)
                self.blocks(children, tight: false)
                close(.quote)
            case .list(let list):
                let element = BlockElement.list(ordered: list.ordered, start: list.start)
                open(element)
                for item in list.items {
                    open(.item)
                    self.blocks(item, tight: list.tight)
                    close(.item)
                }
                close(element)
            }
        }
    }
}
