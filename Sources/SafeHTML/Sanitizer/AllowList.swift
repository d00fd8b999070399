extension HTMLSanitizer {
    /// The element names the tree builder treats specially, beyond the kept elements it names itself.
    enum AllowList {
        /// Raw text elements whose text is dropped (script has rules of its own).
        static let rawTextDropped: Set<String> = [
            "style", "iframe", "noembed", "noframes", "noscript", "textarea", "title",
        ]
        /// Elements whose whole content is dropped, markup included.
        static let droppedContainers: Set<String> = ["template", "object", "applet", "select"]
        /// Start tags that end svg and math content (the HTML spec's breakout list).
        static let breakout: Set<String> = [
            "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em", "embed",
            "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing", "menu", "meta", "nobr",
            "ol", "p", "pre", "ruby", "s", "small", "span", "strike", "strong", "sub", "sup", "table", "tt", "u",
            "ul", "var",
        ]
        /// Elements allowed in a document's head; anything else ends it.
        static let headContent: Set<String> = [
            "base", "basefont", "bgsound", "link", "meta", "title", "noscript", "noframes", "style", "script",
            "template",
        ]
        /// Block-level elements that are not kept but still separate paragraphs.
        static let boundaries: Set<String> = [
            "address", "article", "aside", "caption", "center", "dd", "details", "dialog", "div", "dl", "dt",
            "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
            "hgroup", "hr", "legend", "main", "nav", "search", "section", "summary", "table", "tbody", "td",
            "tfoot", "th", "thead", "tr",
        ]
    }
}
