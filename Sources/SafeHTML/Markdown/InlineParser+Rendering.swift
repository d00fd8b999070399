/// Writing the parsed inline nodes through `HTMLWriter`.
extension Markdown.InlineParser {
    /// What to emit when a node's children are done.
    enum Closing {
        case none
        case element(HTMLWriter.InlineElement)
        case literal(UInt8, Int)
    }

    /// A node whose children are being rendered; an explicit stack, so nesting depth costs no call stack.
    struct Frame {
        var cursor: Int
        let closing: Closing
        let inLink: Bool
        let depth: Int
    }

    /// Writes the nodes as HTML; emphasis deeper than `Markdown.maxInlineDepth` keeps its literal markers.
    func render(into out: inout HTMLWriter) {
        var stack = [Frame(cursor: rootFirst, closing: .none, inLink: false, depth: 0)]
        while let frame = stack.last {
            guard frame.cursor >= 0 else {
                stack.removeLast()
                switch frame.closing {
                case .none: break
                case .element(let element): out.close(element)
                case .literal(let marker, let count): out.text(ArraySlice(repeating: marker, count: count))
                }
                continue
            }
            let node = nodes[frame.cursor]
            stack[stack.count - 1].cursor = node.next
            switch node.kind {
            case .text(let range):
                out.text(source[range])
            case .delimiterRun(let marker):
                out.text(ArraySlice(repeating: marker, count: node.count))
            case .lineBreak:
                out.lineBreak()
            case .code(let range):
                out.open(.code())
                out.text(codeSpanContent(range))
                out.close(.code())
            case .emphasis(let strong, let marker):
                let closing: Closing
                if frame.depth < Markdown.maxInlineDepth {
                    let element: HTMLWriter.InlineElement = strong ? .strong : .emphasis
                    out.open(element)
                    closing = .element(element)
                } else {
                    out.text(ArraySlice(repeating: marker, count: strong ? 2 : 1))
                    closing = .literal(marker, strong ? 2 : 1)
                }
                stack.append(Frame(cursor: node.firstChild, closing: closing, inLink: frame.inLink,
                                   depth: frame.depth + 1))
            case .link(let href, let title):
                guard let href, !frame.inLink else {
                    stack.append(Frame(cursor: node.firstChild, closing: .none, inLink: frame.inLink,
                                       depth: frame.depth))
                    break
                }
                let link = HTMLWriter.InlineElement.link(href: href, title: title)
                out.open(link)
                stack.append(Frame(cursor: node.firstChild, closing: .element(link), inLink: true,
                                   depth: frame.depth))
            case .autolink(let range, let mailto):
                if frame.inLink {
                    out.text(source[range])
                    break
                }
                let link = HTMLWriter.InlineElement.link(href: (mailto ? Self.mailto : []) + source[range])
                out.open(link)
                out.text(source[range])
                out.close(link)
            }
        }
    }

    private static let mailto: [UInt8] = Array("mailto:".utf8)

    /// Code span content: line endings become spaces, and one space is stripped from each end
    /// when both ends have one and the content is not all spaces.
    func codeSpanContent(_ range: Range<Int>) -> ArraySlice<UInt8> {
        var content = ArraySlice(source[range].map { $0 == ASCII.lineFeed ? ASCII.space : $0 })
        if content.count >= 2, content.first == ASCII.space, content.last == ASCII.space,
            content.contains(where: { $0 != ASCII.space })
        {
            content = content.dropFirst().dropLast()
        }
        return content
    }
}
