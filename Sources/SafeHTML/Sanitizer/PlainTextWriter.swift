extension HTMLSanitizer {
    /// The plain text of sanitised HTML: blocks separated by a blank line, items and `<br>` ending
    /// a line, runs of spaces collapsed outside `<pre>`.
    struct PlainTextWriter {
        private var bytes: [UInt8] = []
        /// A newline right after `<pre>` is not content, as in browsers.
        private var atPreStart = false

        /// Opens a block.
        mutating func open(_ block: HTMLWriter.BlockElement) {
            if block == .item { endLine() } else { separateParagraph() }
            atPreStart = block == .preformatted
        }

        /// Closes a block.
        mutating func close(_ block: HTMLWriter.BlockElement) {
            if block == .item { endLine() } else { separateParagraph() }
            atPreStart = false
        }

        /// A line break.
        mutating func lineBreak() {
            trimTrailingSpaces()
            bytes.append(ASCII.lineFeed)
        }

        /// Text; outside `<pre>` (`verbatim` false) runs of spaces collapse.
        mutating func text(_ text: ArraySlice<UInt8>, verbatim: Bool) {
            if verbatim {
                var text = text
                if atPreStart, text.first == ASCII.lineFeed { text = text.dropFirst() }
                atPreStart = false
                bytes.append(contentsOf: text)
                return
            }
            atPreStart = false
            for byte in text {
                if ASCII.isWhitespace(byte) {
                    if let last = bytes.last, last != ASCII.space, last != ASCII.lineFeed {
                        bytes.append(ASCII.space)
                    }
                } else {
                    bytes.append(byte)
                }
            }
        }

        /// The output, without trailing newlines and spaces.
        mutating func finish() -> String {
            while let last = bytes.last, ASCII.isWhitespace(last) {
                bytes.removeLast()
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        private mutating func trimTrailingSpaces() {
            while let last = bytes.last, last == ASCII.space || last == ASCII.tab || last == ASCII.formFeed {
                bytes.removeLast()
            }
        }

        private mutating func endLine() {
            trimTrailingSpaces()
            if let last = bytes.last, last != ASCII.lineFeed { bytes.append(ASCII.lineFeed) }
        }

        private mutating func separateParagraph() {
            endLine()
            guard !bytes.isEmpty else { return }
            if bytes.count < 2 || bytes[bytes.count - 2] != ASCII.lineFeed { bytes.append(ASCII.lineFeed) }
        }
    }
}
