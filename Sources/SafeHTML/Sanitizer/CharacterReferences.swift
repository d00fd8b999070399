extension HTMLSanitizer {
    /// Decodes `&name;`, `&#NN;` and `&#xHH;` as a browser does.
    ///
    /// Named references are the HTML 4 set plus a few HTML 5 ones; like browsers, the legacy Latin-1
    /// names also match without a semicolon (`&copy 2020`, `&notit;` → `¬it;`), except inside an
    /// attribute value when a letter, digit or `=` follows (`?a=1&copy=2` stays as typed).
    enum CharacterReferences {
        /// Decodes every reference in `bytes`; NUL becomes U+FFFD and a decoded CR becomes LF.
        static func decode(_ bytes: ArraySlice<UInt8>, inAttribute: Bool) -> [UInt8] {
            // Most text has nothing to decode: copy it in one go.
            guard bytes.contains(where: { $0 == ASCII.ampersand || $0 == 0 }) else { return Array(bytes) }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var index = bytes.startIndex
            while index < bytes.endIndex {
                let byte = bytes[index]
                if byte == 0 {
                    out.append(contentsOf: ASCII.replacement)
                    index += 1
                } else if byte == ASCII.ampersand, let (scalar, end) = reference(in: bytes, at: index, inAttribute: inAttribute) {
                    // A CR from `&#13;` would be folded into LF by a second pass; fold it now.
                    ASCII.append(scalar.value == 0x0D ? "\n" : scalar, to: &out)
                    index = end
                } else {
                    out.append(byte)
                    index += 1
                }
            }
            return out
        }

        /// The reference starting at the `&` at `start`, and where it ends; nil when the `&` is literal.
        private static func reference(in bytes: ArraySlice<UInt8>, at start: Int, inAttribute: Bool)
            -> (Unicode.Scalar, Int)?
        {
            var index = start + 1
            guard index < bytes.endIndex else { return nil }
            if bytes[index] == ASCII.hash {
                index += 1
                let hex = index < bytes.endIndex && (bytes[index] | 0x20) == 0x78  // x
                if hex { index += 1 }
                let digitsStart = index
                var value: UInt32 = 0
                while index < bytes.endIndex, let digit = digitValue(bytes[index], hex: hex) {
                    // Saturate past the Unicode range: any number of digits is one (invalid) reference.
                    if value <= 0x10FFFF { value = value * (hex ? 16 : 10) + digit }
                    index += 1
                }
                guard index > digitsStart else { return nil }
                if index < bytes.endIndex, bytes[index] == ASCII.semicolon { index += 1 }
                return (numericScalar(value), index)
            }
            let nameStart = index
            while index < bytes.endIndex, index - nameStart < 32, ASCII.isAlphanumeric(bytes[index]) {
                index += 1
            }
            guard index > nameStart else { return nil }
            if index < bytes.endIndex, bytes[index] == ASCII.semicolon,
                let value = named[String(decoding: bytes[nameStart..<index], as: UTF8.self)]
            {
                return (value, index + 1)
            }
            // Without a semicolon only the legacy names match, longest first, as browsers do.
            var length = min(index - nameStart, 6)
            while length >= 2 {
                let end = nameStart + length
                if let value = legacy[String(decoding: bytes[nameStart..<end], as: UTF8.self)] {
                    if inAttribute, end < bytes.endIndex,
                        bytes[end] == ASCII.equals || ASCII.isAlphanumeric(bytes[end])
                    {
                        return nil
                    }
                    return (value, end)
                }
                length -= 1
            }
            return nil
        }

        private static func digitValue(_ byte: UInt8, hex: Bool) -> UInt32? {
            if ASCII.isDigit(byte) { return UInt32(byte - 0x30) }
            let lower = byte | 0x20
            if hex, lower >= 0x61, lower <= 0x66 { return UInt32(lower - 0x61 + 10) }
            return nil
        }

        /// The scalar a numeric reference stands for: NUL, surrogates and values past U+10FFFF become
        /// U+FFFD, and 0x80–0x9F are read as Windows-1252, as browsers do.
        static func numericScalar(_ value: UInt32) -> Unicode.Scalar {
            if value >= 0x80, value <= 0x9F {
                let mapped = windows1252[Int(value - 0x80)]
                if mapped != 0, let scalar = Unicode.Scalar(mapped) { return scalar }
            }
            guard value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
            return scalar
        }

        /// Windows-1252 for 0x80–0x9F; 0 where browsers keep the C1 control as is.
        private static let windows1252: [UInt32] = [
            0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
            0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
        ]

        /// U+00A0…U+00FF in order.
        private static let latin1Names = """
            nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 \
            acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde \
            Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc \
            Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml \
            aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc \
            otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml
            """

        /// The rest of HTML 4 (with HTML 5's values for lang and rang), then HTML 5 names that spell ASCII.
        private static let otherNames = """
            quot 34 amp 38 lt 60 gt 62 QUOT 34 AMP 38 LT 60 GT 62 COPY 169 REG 174 apos 39 \
            OElig 338 oelig 339 Scaron 352 scaron 353 Yuml 376 circ 710 tilde 732 ensp 8194 emsp 8195 thinsp 8201 \
            zwnj 8204 zwj 8205 lrm 8206 rlm 8207 ndash 8211 mdash 8212 lsquo 8216 rsquo 8217 sbquo 8218 ldquo 8220 \
            rdquo 8221 bdquo 8222 dagger 8224 Dagger 8225 permil 8240 lsaquo 8249 rsaquo 8250 euro 8364 \
            fnof 402 Alpha 913 Beta 914 Gamma 915 Delta 916 Epsilon 917 Zeta 918 Eta 919 Theta 920 Iota 921 \
            Kappa 922 Lambda 923 Mu 924 Nu 925 Xi 926 Omicron 927 Pi 928 Rho 929 Sigma 931 Tau 932 Upsilon 933 \
            Phi 934 Chi 935 Psi 936 Omega 937 alpha 945 beta 946 gamma 947 delta 948 epsilon 949 zeta 950 eta 951 \
            theta 952 iota 953 kappa 954 lambda 955 mu 956 nu 957 xi 958 omicron 959 pi 960 rho 961 sigmaf 962 \
            sigma 963 tau 964 upsilon 965 phi 966 chi 967 psi 968 omega 969 thetasym 977 upsih 978 piv 982 \
            bull 8226 hellip 8230 prime 8242 Prime 8243 oline 8254 frasl 8260 weierp 8472 image 8465 real 8476 \
            trade 8482 alefsym 8501 larr 8592 uarr 8593 rarr 8594 darr 8595 harr 8596 crarr 8629 lArr 8656 \
            uArr 8657 rArr 8658 dArr 8659 hArr 8660 forall 8704 part 8706 exist 8707 empty 8709 nabla 8711 \
            isin 8712 notin 8713 ni 8715 prod 8719 sum 8721 minus 8722 lowast 8727 radic 8730 prop 8733 \
            infin 8734 ang 8736 and 8743 or 8744 cap 8745 cup 8746 int 8747 there4 8756 sim 8764 cong 8773 \
            asymp 8776 ne 8800 equiv 8801 le 8804 ge 8805 sub 8834 sup 8835 nsub 8836 sube 8838 supe 8839 \
            oplus 8853 otimes 8855 perp 8869 sdot 8901 lceil 8968 rceil 8969 lfloor 8970 rfloor 8971 \
            lang 10216 rang 10217 loz 9674 spades 9824 clubs 9827 hearts 9829 diams 9830 \
            Tab 9 NewLine 10 excl 33 num 35 dollar 36 percnt 37 lpar 40 rpar 41 ast 42 plus 43 comma 44 \
            period 46 sol 47 colon 58 semi 59 equals 61 quest 63 commat 64 lsqb 91 bsol 92 rsqb 93 Hat 94 \
            lowbar 95 grave 96 lcub 123 verbar 124 rcub 125 hyphen 8208 dash 8208 horbar 8213 \
            NonBreakingSpace 160 ZeroWidthSpace 8203 check 10003 cross 10007 star 9734 starf 9733 \
            half 189 frac13 8531 frac23 8532 centerdot 183
            """

        /// Every name that matches with a semicolon.
        private static let named: [String: Unicode.Scalar] = {
            var table: [String: Unicode.Scalar] = [:]
            for (offset, name) in latin1Names.split(separator: " ").enumerated() {
                table[String(name)] = Unicode.Scalar(UInt8(0xA0 + offset))
            }
            let words = otherNames.split(separator: " ")
            for pair in stride(from: 0, to: words.count - 1, by: 2) {
                if let value = UInt32(words[pair + 1]), let scalar = Unicode.Scalar(value) {
                    table[String(words[pair])] = scalar
                }
            }
            return table
        }()

        /// The names browsers also match without a semicolon: Latin-1 and the markup characters.
        private static let legacy: [String: Unicode.Scalar] = {
            var table: [String: Unicode.Scalar] = [:]
            for (offset, name) in latin1Names.split(separator: " ").enumerated() {
                table[String(name)] = Unicode.Scalar(UInt8(0xA0 + offset))
            }
            for (name, value) in [("amp", 38), ("lt", 60), ("gt", 62), ("quot", 34), ("AMP", 38), ("LT", 60),
                                  ("GT", 62), ("QUOT", 34), ("COPY", 169), ("REG", 174)] as [(String, UInt8)]
            {
                table[name] = Unicode.Scalar(value)
            }
            return table
        }()
    }
}
