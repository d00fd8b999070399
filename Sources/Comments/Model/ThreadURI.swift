/// Normalises a page address into the thread key: the path only, with percent-encoding in one
/// canonical form, so `https://blog/x/?utm=1#c3`, `/x/` and `/%78/` all name one thread.
public enum ThreadURI {
    /// The longest path accepted, in bytes after normalisation.
    public static let maxLength = 2048

    /// The canonical path for `raw`, or nil when nothing usable is left.
    ///
    /// Scheme, host, query and fragment are dropped; dot segments are resolved as a browser does;
    /// percent-escapes of unreserved characters are decoded, other escapes are upper-cased, and
    /// every byte that may not stand bare in a path is escaped. A trailing slash is kept as given.
    public static func normalize(_ raw: String) -> String? {
        // Most addresses a widget sends are canonical already: say so without rebuilding them.
        if isCanonical(raw) { return raw }
        return rebuild(raw)
    }

    /// `normalize` the long way, for any input.
    static func rebuild(_ raw: String) -> String? {
        var text = Substring(raw.trimmingASCIIWhitespace())
        if let schemeEnd = schemeSeparatorRange(text) {
            text = text[schemeEnd...]
            if text.hasPrefix("//") { text = dropAuthority(text) }
        } else if text.hasPrefix("//") {
            text = dropAuthority(text)
        }
        if let cut = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<cut] }
        var bytes = canonicalBytes(Array(text.utf8))
        if bytes.first != UInt8(ascii: "/") { bytes.insert(UInt8(ascii: "/"), at: 0) }
        let path = removeDotSegments(String(decoding: bytes, as: UTF8.self))
        guard path.utf8.count <= maxLength else { return nil }
        return path
    }

    /// Whether `raw` is a path that `normalize` would return unchanged: it starts with one `/`,
    /// holds only bytes that may stand bare (so no escapes, query, fragment or white space) and
    /// has no dot segment (every one would follow a `/`).
    static func isCanonical(_ raw: String) -> Bool {
        let bytes = raw.utf8
        guard bytes.count <= maxLength, bytes.first == UInt8(ascii: "/"), !raw.hasPrefix("//") else { return false }
        var previous: UInt8 = 0
        for byte in bytes {
            guard isAllowedBare(byte), !(previous == UInt8(ascii: "/") && byte == UInt8(ascii: ".")) else { return false }
            previous = byte
        }
        return true
    }

    private static func schemeSeparatorRange(_ text: Substring) -> Substring.Index? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let scheme = text[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter,
              scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return nil }
        return text.index(after: colon)
    }

    private static func dropAuthority(_ text: Substring) -> Substring {
        let rest = text.dropFirst(2)
        guard let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) else { return "" }
        return rest[end...]
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// Characters that may stand unescaped in a path segment besides the unreserved ones.
    private static func isAllowedBare(_ byte: UInt8) -> Bool {
        isUnreserved(byte) || "/!$&'()*+,;=:@".utf8.contains(byte)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "%"))
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0xF)])
    }

    private static func canonicalBytes(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "%"), index + 2 < input.count,
               let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2]) {
                let decoded = high << 4 | low
                if isUnreserved(decoded) { out.append(decoded) } else { appendEscaped(decoded, to: &out) }
                index += 3
                continue
            }
            if byte == UInt8(ascii: "\\") {
                out.append(UInt8(ascii: "/"))  // browsers treat backslash as a path separator
            } else if isAllowedBare(byte) {
                out.append(byte)
            } else {
                appendEscaped(byte, to: &out)
            }
            index += 1
        }
        return out
    }

    /// RFC 3986 §5.2.4, which browsers apply before a path reaches the page.
    private static func removeDotSegments(_ path: String) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var output: [Substring] = []
        let endsWithDirectory = segments.last.map { $0 == "." || $0 == ".." } ?? false
        for segment in segments {
            switch segment {
            case ".": continue
            case "..": if !output.isEmpty { output.removeLast() }
            default: output.append(segment)
            }
        }
        var result = "/" + output.joined(separator: "/")
        if endsWithDirectory && !result.hasSuffix("/") { result += "/" }
        return result
    }
}

/// The host of an absolute URL, as a browser finds it (the WHATWG URL standard's parsing).
public enum URLHost {
    /// Schemes whose authority a browser parses the special way (`\` is `/`, any number of
    /// slashes before the host).
    static let specialSchemes: Set<String> = ["http", "https", "ws", "wss", "ftp"]

    /// The host a browser would visit for `url`, lower-cased, percent-decoded, compatibility-
    /// mapped (NFKC: `ｅｘａｍｐｌｅ` is `example`, `。` is `.`), an IPv4 address in dotted decimal
    /// (`0x7f.1` is `127.0.0.1`) and without a trailing dot: `shop.example.com` for
    /// `https://user@Shop.Example.com:8080/x?y`, `evil.example` for
    /// `http://evil.example\@good.example` (a browser reads `\` as `/`). Tabs and newlines are
    /// skipped as a browser skips them. Nil without `scheme://`, without a host, or with a host a
    /// browser refuses.
    public static func of(_ url: String) -> String? {
        // A browser works on code points: drops leading and trailing C0 controls and spaces, and
        // tabs and newlines anywhere.
        var text = url.unicodeScalars.filter { $0 != "\t" && $0 != "\n" && $0 != "\r" }[...]
        while let first = text.first, first.value <= 0x20 { text = text.dropFirst() }
        while let last = text.last, last.value <= 0x20 { text = text.dropLast() }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let scheme = String(String.UnicodeScalarView(text[..<colon])).lowercased()
        guard !scheme.isEmpty, scheme.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) })
        else { return nil }
        let special = specialSchemes.contains(scheme)
        var rest = text[text.index(after: colon)...]
        if special {
            rest = rest.drop { $0 == "/" || $0 == "\\" }
        } else {
            guard rest.starts(with: "//".unicodeScalars) else { return nil }
            rest = rest.dropFirst(2)
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" && !(special && $0 == "\\") }
        // The host follows the last `@`; what comes before is user info.
        let hostAndPort = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
        if hostAndPort.first == "[" {
            guard let close = hostAndPort.firstIndex(of: "]") else { return nil }
            let literal = String(String.UnicodeScalarView(hostAndPort[...close])).lowercased()
            guard literal.count > 2, literal.dropFirst().dropLast().allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            return literal
        }
        let raw = hostAndPort.prefix { $0 != ":" }
        guard !raw.isEmpty else { return nil }
        return domain(String(String.UnicodeScalarView(raw)))
    }

    /// A host's text made into what a browser resolves: percent-decoded, NFKC, lower-cased, the
    /// other full stops made `.`; nil when it holds a code point a browser refuses in a host.
    static func domain(_ raw: String) -> String? {
        guard let decoded = percentDecoded(raw) else { return nil }
        var host = decoded.precomposedStringWithCompatibilityMapping.lowercased()
        for stop in ["\u{3002}", "\u{FF0E}", "\u{FF61}"] { host = host.replacingOccurrences(of: stop, with: ".") }
        // Code points a browser ignores in a host (UTS 46 maps them to nothing).
        host.unicodeScalars.removeAll { [0xAD, 0x200B, 0x2060, 0xFEFF, 0x034F, 0x180B, 0x180C, 0x180D].contains($0.value) || (0xFE00...0xFE0F).contains($0.value) }
        let forbidden = " #%/:<>?@[\\]^|"
        guard !host.isEmpty,
              !host.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || forbidden.unicodeScalars.contains($0)
                  || $0.properties.generalCategory == .control || $0.properties.generalCategory == .format
                  || $0.properties.generalCategory == .spaceSeparator })
        else { return nil }
        if host.hasSuffix(".") { host.removeLast() }
        guard !host.isEmpty else { return nil }
        // A last label that is a number makes the host an IPv4 address, as in a browser.
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if let last = labels.last, number(last) != nil || last.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return ipv4(labels)
        }
        return host
    }

    /// `%XX` sequences decoded; nil when the result is not UTF-8.
    static func percentDecoded(_ text: String) -> String? {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
               let value = UInt8(String(decoding: utf8[index + 1...index + 2], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// A WHATWG IPv4 number: decimal, `0x` hex or `0` octal; nil when it is none.
    static func number(_ label: Substring) -> UInt64? {
        guard !label.isEmpty, label.count <= 20 else { return nil }
        if label.hasPrefix("0x") || label.hasPrefix("0X") {
            let digits = label.dropFirst(2)
            return digits.isEmpty ? 0 : UInt64(digits, radix: 16)
        }
        if label.count > 1, label.hasPrefix("0") { return UInt64(label.dropFirst(), radix: 8) }
        return UInt64(label, radix: 10)
    }

    /// The dotted form of an IPv4 host in any of the forms a browser takes; nil when invalid.
    static func ipv4(_ labels: [Substring]) -> String? {
        guard labels.count <= 4 else { return nil }
        var numbers: [UInt64] = []
        for label in labels {
            guard let value = number(label) else { return nil }
            numbers.append(value)
        }
        guard numbers.dropLast().allSatisfy({ $0 <= 255 }) else { return nil }
        let lastLimit = UInt64(1) << (8 * UInt64(5 - numbers.count))
        guard let last = numbers.last, last < lastLimit else { return nil }
        var address = last
        for (index, value) in numbers.dropLast().enumerated() { address += value << (8 * UInt64(3 - index)) }
        return (0..<4).map { String((address >> (8 * UInt64(3 - $0))) & 0xFF) }.joined(separator: ".")
    }
}
