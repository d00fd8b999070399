/// Emphasis: matching `*` / `_` runs into `<em>` and `<strong>`.
extension Markdown.InlineParser {
    /// CommonMark's "process emphasis" over the delimiters above `bottom`, which it then removes.
    /// `openersBottom` remembers, per closer kind, below which no opener can match, so the search
    /// never rescans and the whole pass stays linear.
    mutating func processEmphasis(above bottom: Int) {
        var openersBottom = [Int](repeating: bottom, count: 12)
        var closer = delimiterTop
        var firstAbove = -1
        while closer > bottom {
            firstAbove = closer
            closer = delimiters[closer].previous
        }
        closer = firstAbove
        while closer >= 0 {
            let current = delimiters[closer]
            guard current.canClose else {
                closer = current.next
                continue
            }
            let key = (current.marker == ASCII.star ? 0 : 6) + (current.canOpen ? 3 : 0) + current.length % 3
            let floor = max(bottom, openersBottom[key])
            var opener = current.previous
            var found = -1
            while opener > floor {
                let candidate = delimiters[opener]
                if candidate.marker == current.marker, candidate.canOpen {
                    // The "rule of 3" that keeps `*foo**bar*` from matching across the `**`.
                    let eitherBoth = candidate.canClose || current.canOpen
                    let sum = candidate.length + current.length
                    if !(eitherBoth && sum % 3 == 0 && !(candidate.length % 3 == 0 && current.length % 3 == 0)) {
                        found = opener
                        break
                    }
                }
                opener = candidate.previous
            }
            guard found >= 0 else {
                openersBottom[key] = current.previous
                let next = current.next
                if !current.canOpen { removeDelimiter(closer) }
                closer = next
                continue
            }
            let openerNode = delimiters[found].node
            let closerNode = current.node
            let used = nodes[openerNode].count >= 2 && nodes[closerNode].count >= 2 ? 2 : 1
            nodes[openerNode].count -= used
            nodes[closerNode].count -= used
            wrap(after: openerNode, before: closerNode, in: .emphasis(strong: used == 2, marker: current.marker))
            // Delimiters between the pair can no longer match anything.
            delimiters[found].next = closer
            delimiters[closer].previous = found
            if nodes[openerNode].count == 0 {
                unlink(openerNode)
                removeDelimiter(found)
            }
            if nodes[closerNode].count == 0 {
                let next = delimiters[closer].next
                unlink(closerNode)
                removeDelimiter(closer)
                closer = next
            }
        }
        delimiterTop = bottom
        if bottom >= 0 { delimiters[bottom].next = -1 }
    }

    /// Moves the siblings strictly between two nodes into a new node of `kind` placed between them.
    mutating func wrap(after start: Int, before end: Int, in kind: Node.Kind) {
        var wrapper = Node(kind: kind)
        let first = nodes[start].next
        if first != end {
            let last = nodes[end].previous
            wrapper.firstChild = first
            wrapper.lastChild = last
            nodes[first].previous = -1
            nodes[last].next = -1
        }
        wrapper.previous = start
        wrapper.next = end
        let index = nodes.count
        nodes.append(wrapper)
        nodes[start].next = index
        nodes[end].previous = index
    }
}
