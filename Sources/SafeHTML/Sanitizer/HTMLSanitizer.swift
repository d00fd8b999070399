// Imported comments (Disqus, WordPress) are HTML written by other systems. This file turns that HTML
// into the same small subset `Markdown.render` emits, so stored comments have one safe form.
//
// Safety comes from construction, as in the markdown renderer: the input is tokenized the way a
// browser tokenizes it, and the output is rebuilt from scratch through `HTMLWriter`. Tags come only
// from its string literals; text and href values only ever reach the output through its escaping. Nothing from the input is copied
// through as markup, so wherever this tokenizer and a browser disagree, the worst outcome is text
// kept or lost, never a tag or attribute the allow-list does not name.
//
// The work is on UTF-8 bytes. Every syntax character is ASCII and no byte of a multi-byte scalar is
// ASCII, so splitting at syntax characters never cuts a scalar and text passes through byte for byte.
//
// Everything is a single forward pass with explicit stacks whose depth is capped, so run time is
// linear in the input and nesting depth never reaches the call stack.

/// Converts untrusted HTML (from imports) into Margin's safe subset.
///
/// The output uses only the tags and attributes `Markdown.render` uses, with the same layout
/// (blocks on their own lines, `<br>` followed by a newline, the same escaping), so sanitising
/// rendered markdown gives it back unchanged apart from the attributes only markdown adds
/// (`class` on code, `start` on lists, `title` on links).
public enum HTMLSanitizer {
    /// Open block elements (paragraphs, quotes, lists, items, pre) beyond this are not opened.
    static let maxBlockDepth = 32
    /// Open inline elements (em, strong, code, a) beyond this are not opened.
    static let maxInlineDepth = 16
    /// Nested elements whose content is dropped (svg, template, object…) tracked beyond this are not
    /// tracked; their content is still dropped, their end tags may end the dropping early.
    static let maxDroppedDepth = 64

    /// Sanitised HTML: keeps text, paragraphs (<p>), line breaks (<br>), links (<a href> with allow-listed schemes, rel="nofollow ugc noopener"), emphasis (em/i → em, strong/b → strong), code (code, pre), quotes (blockquote), lists (ul, ol, li); drops every other tag but keeps its text content, except the content of script, style, template, iframe, object, embed, noscript, textarea, title, head, svg, math, select which is dropped entirely. Every attribute other than href on <a> is dropped. Entities are decoded and re-escaped (so &lt;script&gt; stays text). Comments, CDATA, processing instructions and doctype are dropped. Unclosed tags are closed, stray close tags ignored, nesting made valid. Bare text with newlines (Disqus/WordPress often store plain text with \n and <br>) becomes paragraphs: blank lines separate <p>, single newlines become <br>. Never crashes, linear time, bounded nesting depth.
    public static func sanitize(_ html: String) -> String {
        var out = run(html, into: Output(html: true, text: false))
        return out.finishHTML()
    }

    /// Plain text of the same HTML (for the stored markdown `body` of an imported comment and for spam features): tags removed, entities decoded, <br> and block ends become newlines, whitespace runs inside lines collapsed.
    ///
    /// Paragraphs, quotes, lists and preformatted blocks are separated by a blank line, list items
    /// and `<br>` end a line; text inside `<pre>` keeps its own spacing. What `sanitize` drops
    /// (script, style, svg… content) is dropped here too.
    public static func plainText(_ html: String) -> String {
        var out = run(html, into: Output(html: false, text: true))
        return out.finishText()
    }


    /// `sanitize` and `plainText` of the same HTML from one parse (what an import stores).
    public static func sanitizeWithPlainText(_ html: String) -> (html: String, text: String) {
        var out = run(html, into: Output(html: true, text: true))
        return (out.finishHTML(), out.finishText())
    }

    /// Tokenizes `html` into a tree builder writing to `output`, and closes what is left open.
    private static func run(_ html: String, into output: Output) -> Output {
        var builder = TreeBuilder(output: output)
        var tokenizer = Tokenizer(html)
        tokenizer.run(into: &builder)
        builder.closeAll()
        return builder.out
    }
}
