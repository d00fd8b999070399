extension HTMLSanitizer {
    /// A start tag as the tree builder needs it: name lowercased, the first `href` entity-decoded.
    struct StartTag {
        let name: String
        let selfClosing: Bool
        let href: [UInt8]?
    }

    /// How the tokenizer reads an element's content after its start tag.
    enum ContentModel {
        /// Ordinary markup.
        case markup
        /// Text up to `</name` (RAWTEXT and RCDATA: style, iframe, textarea, title, xmp…); `keep` says
        /// whether the text is content or dropped.
        case rawText(name: [UInt8], keep: Bool)
        /// Script data, with the `<!--` / `<script>` escaping rules that decide where it ends.
        case script
        /// Everything to the end of the input is text.
        case plaintext(keep: Bool)
    }
}
