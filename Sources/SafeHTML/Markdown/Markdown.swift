// The comment markdown subset, rendered once at write time into HTML that is safe to embed as is.
//
// Safety comes from construction, not filtering: the renderer only asks `HTMLWriter` for its fixed
// set of elements, and every byte that came from the user goes through the writer's escaping. Raw
// HTML in the input is never parsed as HTML, so it always ends up as escaped text.
//
// The parser works on the source's UTF-8 bytes. Every markdown syntax character is ASCII and a
// multi-byte scalar contains no ASCII bytes, so slicing at syntax characters never splits a scalar
// and the output contains the user's text byte for byte (no normalisation, no grapheme surgery).

/// Renders the comment markdown subset into safe HTML, once, at write time.
///
/// Blocks: paragraphs (single newlines become `<br>`), fenced code (```` ``` ```` / `~~~`) and
/// indented code, block quotes, bullet and ordered lists with nesting. Headings, thematic breaks,
/// tables, images and raw HTML are not supported; such lines render as paragraph text.
/// Inlines: code spans, `*em*` / `_em_`, `**strong**` / `__strong__`, `[text](url "title")`,
/// `<scheme:…>` and `<a@b.c>` autolinks, bare `http(s)://` URLs, backslash escapes, line breaks.
/// Entity references are not decoded: `&copy;` shows as typed.
public enum Markdown {
    /// Block quotes and list items nested deeper than this render as paragraph text.
    static let maxBlockDepth = 16
    /// Emphasis nested deeper than this keeps its literal `*` / `_` instead of emitting tags.
    static let maxInlineDepth = 16

    /// Markdown source → sanitised HTML fragment.
    public static func render(_ source: String) -> String {
        let parser = BlockParser(SourceText(source))
        var out = HTMLWriter()
        out.blocks(parser.parseDocument(), tight: false)
        return out.finish()
    }
}
