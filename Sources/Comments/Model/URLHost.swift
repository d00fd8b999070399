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
