extension HTMLSanitizer {
    /// What the tree builder writes to: sanitised HTML, its plain text, or both from one parse.
    struct Output {
        private var html: HTMLWriter?
        private var text: PlainTextWriter?

        /// An output with the HTML form, the plain-text form or both.
        init(html: Bool, text: Bool) {
            self.html = html ? HTMLWriter() : nil
            self.text = text ? PlainTextWriter() : nil
        }

        /// Opens a block in both forms.
        mutating func open(_ block: HTMLWriter.BlockElement) {
            html?.open(block)
            text?.open(block)
        }

        /// Closes a block in both forms.
        mutating func close(_ block: HTMLWriter.BlockElement) {
            html?.close(block)
            text?.close(block)
        }

        /// Inline elements leave no trace in plain text.
        mutating func open(_ inline: HTMLWriter.InlineElement) {
            html?.open(inline)
        }

        /// Closes an inline element (HTML only).
        mutating func close(_ inline: HTMLWriter.InlineElement) {
            html?.close(inline)
        }

        /// A line break in both forms.
        mutating func lineBreak() {
            html?.lineBreak()
            text?.lineBreak()
        }

        /// Text; `verbatim` inside `<pre>`, where plain text keeps its spacing.
        mutating func text(_ bytes: ArraySlice<UInt8>, verbatim: Bool) {
            html?.text(bytes)
            text?.text(bytes, verbatim: verbatim)
        }

        /// The sanitised HTML ("" when not written).
        mutating func finishHTML() -> String {
            html?.finish() ?? ""
        }

        /// The plain text ("" when not written).
        mutating func finishText() -> String {
            text?.finish() ?? ""
        }
    }
}
