/// ASCII byte constants and the character classes the markdown parser, the HTML tokenizer and the
/// URL policy need: one table, so every reader of syntax agrees on what a byte is.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lineFeed: UInt8 = 0x0A
    static let formFeed: UInt8 = 0x0C
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let exclamation: UInt8 = 0x21
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let ampersand: UInt8 = 0x26
    static let apostrophe: UInt8 = 0x27
    static let leftParen: UInt8 = 0x28
    static let rightParen: UInt8 = 0x29
    static let star: UInt8 = 0x2A
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let dash: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let lessThan: UInt8 = 0x3C
    static let equals: UInt8 = 0x3D
    static let greaterThan: UInt8 = 0x3E
    static let question: UInt8 = 0x3F
    static let at: UInt8 = 0x40
    static let leftBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let rightBracket: UInt8 = 0x5D
    static let underscore: UInt8 = 0x5F
    static let backtick: UInt8 = 0x60
    static let tilde: UInt8 = 0x7E
    static let delete: UInt8 = 0x7F
    /// U+FFFD, which replaces NUL and invalid character references.
    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    static func isSpaceOrTab(_ b: UInt8) -> Bool { b == space || b == tab }
    /// The HTML tokenizer's whitespace (CR never survives newline normalisation).
    static func isWhitespace(_ b: UInt8) -> Bool {
        b == space || b == lineFeed || b == tab || b == formFeed || b == carriageReturn
    }
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    static func isAlphanumeric(_ b: UInt8) -> Bool { isDigit(b) || isLetter(b) }
    static func lowercased(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }
    /// The bytes `HTMLWriter` escapes.
    static func isHTMLSpecial(_ b: UInt8) -> Bool {
        b == ampersand || b == lessThan || b == greaterThan || b == quote || b == apostrophe
    }

    /// CommonMark's ASCII punctuation: the characters a backslash can escape.
    static func isASCIIPunctuation(_ b: UInt8) -> Bool {
        (b >= 0x21 && b <= 0x2F) || (b >= 0x3A && b <= 0x40) || (b >= 0x5B && b <= 0x60) || (b >= 0x7B && b <= 0x7E)
    }

    /// Characters allowed in a fenced code block's language name, which becomes a class attribute.
    static func isLanguageName(_ b: UInt8) -> Bool {
        isAlphanumeric(b) || b == underscore || b == plus || b == dash
    }

    /// Characters of a URI scheme after its first letter.
    static func isSchemeTail(_ b: UInt8) -> Bool {
        isAlphanumeric(b) || b == plus || b == dot || b == dash
    }

    /// Characters of an email autolink's local part (CommonMark's definition, from HTML5).
    static func isEmailLocal(_ b: UInt8) -> Bool {
        if isAlphanumeric(b) { return true }
        switch b {
        case dot, exclamation, hash, 0x24, 0x25, ampersand, apostrophe, star, plus, slash, 0x3D, question,
            0x5E, underscore, backtick, 0x7B, 0x7C, 0x7D, tilde, dash:
            return true
        default:
            return false
        }
    }

    /// Appends `scalar` as UTF-8.
    static func append(_ scalar: Unicode.Scalar, to bytes: inout [UInt8]) {
        UTF8.encode(scalar) { bytes.append($0) }
    }
}
