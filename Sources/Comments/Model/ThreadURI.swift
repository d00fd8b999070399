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
