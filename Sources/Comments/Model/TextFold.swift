import Foundation

/// The one form text is compared in for spam matching (blocklist words, names and emails, the
/// duplicate check): compatibility-normalised (NFKC: `ＶＩＡＧＲＡ` is `VIAGRA`), lower-cased, and
/// without invisible characters (zero-width spaces and joiners, soft hyphens, bidi marks, variation
/// selectors: format characters), so such characters cannot hide a word from a match.
public enum TextFold {
    /// `text` folded; ASCII text without capitals comes back as it is, at once.
    public static func fold(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 && !($0 >= 0x41 && $0 <= 0x5A) }) { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars where !isInvisible(scalar) {
            scalars.append(scalar)
        }
        // Lower-casing can leave a form NFKC would change again; a second pass settles it.
        return String(scalars).precomposedStringWithCompatibilityMapping
    }

    /// Characters that show nothing: format characters (U+200B…U+200F, U+2060…, U+FEFF, U+00AD,
    /// bidi controls), the combining grapheme joiner and variation selectors.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return false }
        switch scalar.value {
        case 0x034F, 0x180B...0x180F, 0xFE00...0xFE0F, 0xE0100...0xE01EF: return true
        default: return scalar.properties.generalCategory == .format
        }
    }
}
