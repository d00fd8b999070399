extension HTMLSanitizer {
    /// An element whose whole content is dropped; `foreign` for svg and math, whose content follows
    /// XML-like rules until a known HTML tag breaks out of it.
    struct DroppedElement {
        let name: String
        let foreign: Bool
    }

    /// An open block; items remember whether they hold text and whether their text goes in paragraphs.
    struct Block {
        let kind: HTMLWriter.BlockElement
        /// Opened by the sanitiser (a list around a stray `<li>`, an item around text in a list).
        let implicit: Bool
        var hasContent = false
        /// In an item: inline content is wrapped in `<p>` (after an explicit `<p>` or a paragraph break).
        var paragraphMode = false
    }

    /// An inline element that is open in the input; `isOpen` says whether its tag has been written in
    /// the current block. Like a browser's list of active formatting elements, the ones still open
    /// at a block boundary are reopened inside the next block when content arrives there.
    struct Inline {
        let kind: HTMLWriter.InlineElement
        /// The input tag name (`b`, `strong`…), which its end tag must match.
        let source: String
        var isOpen = false
    }

    /// Builds the output from tokens: keeps the allow-listed elements, makes their nesting valid,
    /// wraps loose text in paragraphs and turns newlines in text into breaks and paragraphs.
    struct TreeBuilder {
        var out: Output
        var blocks: [Block] = []
        var inlines: [Inline] = []
        var dropped: [DroppedElement] = []
        /// Set once anything but html/head has been seen; a later `<head>` is ignored, as in browsers.
        var bodyStarted = false

        // Whitespace between pieces of content waits here until the next content shows what it means.
        var pendingSpaces: [UInt8] = []
        var pendingNewlines = 0
        /// Right after a `<br>`: the newline that usually follows it in the source is the same break.
        var afterBreak = false
        /// At the start of a line (block start or after a break), where leading spaces are dropped.
        var lineStart = true
        /// The current block has content, so a newline becomes a `<br>`.
        var blockHasContent = false

        init(output: Output) {
            out = output
        }

        /// Inside svg or math, where `<![CDATA[` is a real CDATA section.
        var inForeignContent: Bool { dropped.last?.foreign ?? false }

        // MARK: Tokens

        /// Decoded text.
        mutating func text(_ text: [UInt8]) {
            guard !text.isEmpty else { return }
            if let top = dropped.last {
                // Only the head has an end that text can cause.
                guard top.name == "head", text.contains(where: { !ASCII.isWhitespace($0) }) else { return }
                dropped.removeLast()
                guard dropped.isEmpty else { return }
            }
            if blocks.last?.kind == .preformatted {
                bodyStarted = true
                reconstructInlines()
                out.text(text[...], verbatim: true)
                contentWritten()
                return
            }
            var index = 0
            while index < text.count {
                let byte = text[index]
                if ASCII.isWhitespace(byte) {
                    if byte == ASCII.lineFeed { pendingNewlines += 1 } else { pendingSpaces.append(byte) }
                    index += 1
                    continue
                }
                // Words joined by single spaces go out as one run: the same output as word by
                // word, without the per-word bookkeeping.
                var end = index + 1
                while end < text.count {
                    if !ASCII.isWhitespace(text[end]) {
                        end += 1
                    } else if text[end] == ASCII.space, end + 1 < text.count, !ASCII.isWhitespace(text[end + 1]) {
                        end += 2
                    } else {
                        break
                    }
                }
                bodyStarted = true
                beginContent()
                out.text(text[index..<end], verbatim: false)
                contentWritten()
                index = end
            }
        }

        /// A start tag; returns how the tokenizer must read the element's content.
        mutating func startTag(_ tag: StartTag) -> ContentModel {
            let name = tag.name
            if !dropped.isEmpty { return droppedStartTag(tag) }
            if name != "html", name != "head" { bodyStarted = true }
            switch name {
            case "script":
                return .script
            case _ where AllowList.rawTextDropped.contains(name):
                return .rawText(name: Array(name.utf8), keep: false)
            case "xmp":
                openPreformatted()
                return .rawText(name: Array(name.utf8), keep: true)
            case "plaintext":
                openPreformatted()
                return .plaintext(keep: true)
            case _ where AllowList.droppedContainers.contains(name):
                pushDropped(name, foreign: false)
            case "svg", "math":
                // `<svg/>` is complete: foreign elements honour the self-closing flag.
                if !tag.selfClosing { pushDropped(name, foreign: true) }
            case "head":
                if !bodyStarted { pushDropped(name, foreign: false) }
            case "p":
                closeParagraph()
                if blocks.last?.kind == .item { blocks[blocks.count - 1].paragraphMode = true }
            case "br":
                lineBreakTag()
            case "pre", "listing":
                openPreformatted()
            case "blockquote":
                openQuote()
            case "ul", "menu", "dir":
                openList(ordered: false)
            case "ol":
                openList(ordered: true)
            case "li":
                openItem()
            case "em", "i":
                openInline(.emphasis, source: name)
            case "strong", "b":
                openInline(.strong, source: name)
            case "code":
                openInline(.code(), source: name)
            case "a":
                // A link never contains a link: a new `<a>` ends the open one, as in browsers.
                closeInline(source: "a")
                if let href = tag.href, let checked = URLPolicy.importedHref(href) {
                    openInline(.link(href: checked), source: "a")
                }
            case _ where AllowList.boundaries.contains(name):
                paragraphBreak()
            default:
                break
            }
            return .markup
        }

        /// An end tag.
        mutating func endTag(_ name: String) {
            if !dropped.isEmpty {
                droppedEndTag(name)
                return
            }
            switch name {
            case "p":
                paragraphBreak()
            case "br":
                lineBreakTag()  // browsers read `</br>` as `<br>`
            case "pre", "listing", "xmp", "plaintext":
                closeBlock(where: { $0.kind == .preformatted })
            case "blockquote":
                closeBlock(where: { $0.kind == .quote })
            case "ul", "menu", "dir":
                closeBlock(where: { $0.kind == .list(ordered: false) })
            case "ol":
                closeBlock(where: { $0.kind == .list(ordered: true) })
            case "li":
                closeItem()
            case "em", "i", "strong", "b", "code", "a":
                closeInline(source: name)
            case _ where AllowList.boundaries.contains(name):
                paragraphBreak()
            default:
                break
            }
        }

        /// Closes every open block and inline element.
        mutating func closeAll() {
            while !blocks.isEmpty {
                popBlock()
            }
            inlines.removeAll()
        }
    }
}
