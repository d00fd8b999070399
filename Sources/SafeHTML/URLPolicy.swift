/// The link allow-list, one for every href Margin writes: markdown links and autolinks, and the
/// links the sanitiser keeps from imported HTML.
enum URLPolicy {
    private static let mailto: [UInt8] = Array("mailto".utf8)
    private static let allowedSchemes: [[UInt8]] = [Array("http".utf8), Array("https".utf8), mailto]
    private static let forbidden: [[UInt8]] = [
        Array("javascript:".utf8), Array("vbscript:".utf8), Array("data:".utf8),
    ]
    /// Named references that can spell out URL syntax; numeric references are decoded generally.
    private static let namedReferences: [[UInt8]: UInt8] = [
        Array("amp".utf8): ASCII.ampersand, Array("lt".utf8): ASCII.lessThan, Array("gt".utf8): ASCII.greaterThan,
        Array("quot".utf8): ASCII.quote, Array("apos".utf8): ASCII.apostrophe, Array("colon".utf8): ASCII.colon,
        Array("tab".utf8): ASCII.tab, Array("newline".utf8): ASCII.lineFeed, Array("sol".utf8): ASCII.slash,
        Array("num".utf8): ASCII.hash, Array("quest".utf8): ASCII.question, Array("lpar".utf8): ASCII.leftParen,
        Array("rpar".utf8): ASCII.rightParen, Array("period".utf8): ASCII.dot, Array("comma".utf8): ASCII.comma,
    ]

    /// Whether `url` may become an href.
    ///
    /// The renderer never decodes entities and always escapes `&`, so the browser's attribute
    /// decoding hands back exactly `url`. The check runs on that string, and again after entity
    /// decoding and after percent decoding, so no later consumer that decodes once can turn it
    /// into a script URL. Each form is read as a browser would: bytes <= 0x20 removed (browsers
    /// strip or ignore them), ASCII lowercased. A `:` before any `/`, `?` or `#` makes the prefix
    /// a scheme, which must be `http://`, `https://` or `mailto:`; otherwise it is a relative URL.
    /// Script-capable scheme names anywhere reject the URL outright, as defence in depth.
    static func allows(_ url: [UInt8]) -> Bool {
        let plain = normalized(url)
        return !plain.isEmpty
            && isAllowed(plain)
            && isAllowed(normalized(decodingCharacterReferences(url)))
            && isAllowed(normalized(decodingPercentEscapes(url)))
    }

    private static func normalized(_ url: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(url.count)
        for byte in url where byte > ASCII.space && byte != ASCII.delete {
            result.append(ASCII.lowercased(byte))
        }
        return result
    }

    private static func isAllowed(_ url: [UInt8]) -> Bool {
        for word in forbidden where contains(url, word) {
            return false
        }
        for (index, byte) in url.enumerated() {
            switch byte {
            case ASCII.slash, ASCII.question, ASCII.hash:
                return true
            case ASCII.colon:
                let scheme = Array(url[..<index])
                guard allowedSchemes.contains(scheme) else { return false }
                // `http:foo` is legal but odd; requiring `//` keeps every web href absolute and obvious.
                return scheme == mailto || url[(index + 1)...].starts(with: [ASCII.slash, ASCII.slash])
            default:
                continue
            }
        }
        return true
    }

    /// `&#NN;`, `&#xHH;` (semicolon optional, as browsers accept) and the named references above.
    /// Only ASCII matters to the check, so other scalars decode to a placeholder byte.
    private static func decodingCharacterReferences(_ url: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var index = 0
        while index < url.count {
            guard url[index] == ASCII.ampersand else {
                result.append(url[index])
                index += 1
                continue
            }
            var end = index + 1
            var decoded: UInt32?
            if end < url.count, url[end] == ASCII.hash {
                end += 1
                let hex = end < url.count && (url[end] | 0x20) == 0x78  // x
                if hex { end += 1 }
                let digitsStart = end
                var value: UInt32 = 0
                while end < url.count, end - digitsStart < 8 {
                    let byte = url[end]
                    let digit: UInt32
                    if ASCII.isDigit(byte) {
                        digit = UInt32(byte - 0x30)
                    } else if hex, (byte | 0x20) >= 0x61, (byte | 0x20) <= 0x66 {
                        digit = UInt32((byte | 0x20) - 0x61 + 10)
                    } else {
                        break
                    }
                    value = value * (hex ? 16 : 10) + digit
                    end += 1
                }
                if end > digitsStart { decoded = value }
            } else {
                while end < url.count, end - index <= 8, ASCII.isLetter(url[end]) {
                    end += 1
                }
                let name = url[(index + 1)..<end].map(ASCII.lowercased)
                if end < url.count, url[end] == ASCII.semicolon, let byte = namedReferences[name] {
                    decoded = UInt32(byte)
                }
            }
            guard let decoded else {
                result.append(url[index])
                index += 1
                continue
            }
            result.append(decoded < 0x80 ? UInt8(decoded) : 0x80)
            index = end < url.count && url[end] == ASCII.semicolon ? end + 1 : end
        }
        return result
    }

    private static func decodingPercentEscapes(_ url: [UInt8]) -> [UInt8] {
        func hexValue(_ byte: UInt8) -> UInt8? {
            if ASCII.isDigit(byte) { return byte - 0x30 }
            let lower = byte | 0x20
            return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : nil
        }
        var result: [UInt8] = []
        var index = 0
        while index < url.count {
            if url[index] == 0x25, index + 2 < url.count, let high = hexValue(url[index + 1]),
                let low = hexValue(url[index + 2])
            {
                result.append(high << 4 | low)
                index += 3
            } else {
                result.append(url[index])
                index += 1
            }
        }
        return result
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            var match = true
            for offset in 1..<needle.count where haystack[start + offset] != needle[offset] {
                match = false
                break
            }
            if match { return true }
        }
        return false
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// `url` with spaces, control characters and DEL percent-encoded, so a browser reading the
    /// attribute sees exactly this URL (a pointy-bracket markdown destination may contain them).
    static func percentEncodingControls(_ url: some Sequence<UInt8>) -> [UInt8] {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(url.underestimatedCount)
        for byte in url {
            if byte <= ASCII.space || byte == ASCII.delete {
                encoded.append(0x25)
                encoded.append(hexDigits[Int(byte >> 4)])
                encoded.append(hexDigits[Int(byte & 0x0F)])
            } else {
                encoded.append(byte)
            }
        }
        return encoded
    }

    /// The href to emit for an entity-decoded attribute value of imported HTML, or nil when the
    /// link must go.
    ///
    /// As a browser's URL parser does, tabs and newlines are removed and leading and trailing
    /// spaces and control characters stripped; remaining spaces and controls are percent-encoded,
    /// so the emitted value is exactly the URL a browser will use. Both forms must pass `allows`.
    static func importedHref(_ decoded: [UInt8]) -> [UInt8]? {
        var value = decoded.filter { $0 != ASCII.tab && $0 != ASCII.lineFeed && $0 != ASCII.carriageReturn }
        while let last = value.last, last <= ASCII.space { value.removeLast() }
        let leading = value.prefix(while: { $0 <= ASCII.space }).count
        value.removeFirst(leading)
        let encoded = percentEncodingControls(value)
        guard allows(value), allows(encoded) else { return nil }
        return encoded
    }
}
