extension Markdown {
    /// Unicode character classes for emphasis flanking rules.
    enum Scalars {
        /// Decodes the scalar starting at `index`; malformed input (never produced by `String`) yields U+FFFD.
        static func scalar(in bytes: [UInt8], at index: Int) -> Unicode.Scalar {
            let lead = bytes[index]
            if lead < 0x80 { return Unicode.Scalar(lead) }
            let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
            guard index + length <= bytes.count else { return "\u{FFFD}" }
            var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for offset in 1..<length {
                value = value << 6 | (UInt32(bytes[index + offset]) & 0x3F)
            }
            return Unicode.Scalar(value) ?? "\u{FFFD}"
        }

        /// The scalar ending just before `index`, or nil at the start.
        static func scalar(in bytes: [UInt8], before index: Int) -> Unicode.Scalar? {
            guard index > 0 else { return nil }
            var start = index - 1
            while start > 0, index - start < 4, bytes[start] & 0xC0 == 0x80 {
                start -= 1
            }
            return scalar(in: bytes, at: start)
        }

        static func isWhitespace(_ scalar: Unicode.Scalar?) -> Bool {
            guard let scalar else { return true }
            switch scalar.value {
            case 0x09, 0x0A, 0x0C, 0x0D, 0x20: return true
            default: return scalar.value > 0x7F && scalar.properties.generalCategory == .spaceSeparator
            }
        }

        static func isPunctuation(_ scalar: Unicode.Scalar?) -> Bool {
            guard let scalar else { return false }
            if scalar.value < 0x80 { return ASCII.isASCIIPunctuation(UInt8(scalar.value)) }
            switch scalar.properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                .initialPunctuation, .finalPunctuation, .otherPunctuation,
                .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
                return true
            default:
                return false
            }
        }
    }
}
