import Comments

/// Header and body encodings used by `MailMessage.rendered()`.
enum MIMEEncoding {
    /// A line ending.
    static let crlf: [UInt8] = [13, 10]
    /// The soft limit on a header line, without CRLF.
    static let softLineLimit = 78
    /// The hard limit on any line, without CRLF.
    static let hardLineLimit = 998
    /// The headers the rendering writes itself, lowercased; extra headers may not repeat them.
    static let generatedFieldNames: Set<String> = [
        "date", "from", "to", "subject", "message-id", "mime-version", "content-type",
        "content-transfer-encoding",
    ]

    /// A control character (C0, DEL, C1, or a Unicode line/paragraph separator).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
            || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// RFC 5322 atext.
    static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return false }
        let value = scalar.value
        if (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) || (0x30...0x39).contains(value) {
            return true
        }
        return "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(scalar)
    }

    /// Whether `name` is a valid header field name (printable ASCII except `:`).
    static func isFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: ":") }
    }

    /// `text` with every run of control characters (CR and LF among them) turned into one space:
    /// what keeps a value from ending its header line.
    static func sanitizedHeaderText(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var inControlRun = false
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                if !inControlRun { scalars.append(" ") }
                inControlRun = true
            } else {
                scalars.append(scalar)
                inControlRun = false
            }
        }
        return String(scalars)
    }

    /// The Message-ID token: no brackets, whitespace or control characters.
    static func messageIDToken(_ id: String) -> String {
        let bare = MailMessage.bareMessageID(sanitizedHeaderText(id))
        return String(String.UnicodeScalarView(bare.unicodeScalars.filter {
            $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">"
        }))
    }

    /// `Thu, 01 Jan 1970 00:00:00 +0000` for unix milliseconds `millis`, in UTC.
    static func rfc5322Date(millis: Int64) -> String {
        let time = CivilTime(millis: millis)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let hour = time.secondOfDay / 3600, minute = time.secondOfDay % 3600 / 60, second = time.secondOfDay % 60
        return "\(weekdays[time.weekday]), \(two(time.day)) \(months[time.month - 1]) \(time.year) "
            + "\(two(hour)):\(two(minute)):\(two(second)) +0000"
    }

    /// `From`/`To`: the addresses separated by commas, folded between words.
    static func addressField(name: String, addresses: [String]) -> String {
        var segments: [String] = []
        for (index, text) in addresses.enumerated() {
            var parts = MailAddress(parsing: text).headerSegments
            if index < addresses.count - 1 { parts[parts.count - 1] += "," }
            segments.append(contentsOf: parts)
        }
        // Only an absurdly long address cannot be folded within 998; encoded-words keep the line limit.
        return fold(name: name, segments: segments, softLimit: softLineLimit, hardLimit: hardLineLimit)
            ?? unstructuredField(name: name, value: segments.joined(separator: " "))
    }

    /// A structured header of printable ASCII (`Message-ID`), folded at spaces where it can be.
    static func structuredField(name: String, value: String) -> String {
        let segments = spaceSegments(sanitizedHeaderText(value).trimmingSpacesAndTabs())
        return fold(name: name, segments: segments, softLimit: softLineLimit, hardLimit: hardLineLimit)
            ?? unstructuredField(name: name, value: value)
    }

    /// An extra header: printable ASCII stays as it is (folded at spaces, so URLs in
    /// `List-Unsubscribe` survive); other text becomes encoded-words.
    static func extraField(name: String, value: String) -> String {
        let clean = sanitizedHeaderText(value).trimmingSpacesAndTabs()
        if clean.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }),
           let field = fold(name: name, segments: spaceSegments(clean), softLimit: softLineLimit, hardLimit: hardLineLimit) {
            return field
        }
        return unstructuredField(name: name, value: value)
    }

    /// An unstructured header (`Subject`): printable ASCII folded at spaces when every line can
    /// stay within 78 characters, otherwise RFC 2047 `B` encoded-words of UTF-8, one per line.
    static func unstructuredField(name: String, value: String) -> String {
        let clean = sanitizedHeaderText(value)
        let ascii = clean.trimmingSpacesAndTabs()
        if ascii.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }), !ascii.contains("=?"),
           let field = fold(name: name, segments: spaceSegments(ascii), softLimit: softLineLimit, hardLimit: softLineLimit) {
            return field
        }
        // "Name: " and the 12 characters of "=?UTF-8?B?" + "?=" must fit on the first line.
        let firstBudget = softLineLimit - name.utf8.count - 2
        let words = encodedWords(clean, firstBudget: firstBudget)
        if wordCapacity(firstBudget) < 4 {
            return "\(name):\r\n " + words.joined(separator: "\r\n ")
        }
        return "\(name): " + words.joined(separator: "\r\n ")
    }

    /// `text` as RFC 2047 `=?UTF-8?B?…?=` words, each holding whole Unicode scalars, the first at
    /// most `firstBudget` characters long (when that leaves room for one scalar), the others at most
    /// 75 so that each fits a continuation line.
    static func encodedWords(_ text: String, firstBudget: Int) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        var limit = wordCapacity(firstBudget) >= 4 ? wordCapacity(firstBudget) : wordCapacity(75)
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if current.count + bytes.count > limit, !current.isEmpty {
                words.append("=?UTF-8?B?\(base64(current))?=")
                current = []
                limit = wordCapacity(75)
            }
            current.append(contentsOf: bytes)
        }
        if !current.isEmpty || words.isEmpty {
            words.append("=?UTF-8?B?\(base64(current))?=")
        }
        return words
    }

    /// How many UTF-8 bytes one `=?UTF-8?B?…?=` word of at most `budget` characters (and never
    /// more than RFC 2047's 75) can carry: 12 characters are the word's frame, and base64 turns
    /// each 3 bytes into 4 characters.
    static func wordCapacity(_ budget: Int) -> Int { max(0, (min(budget, 75) - 12) / 4 * 3) }

    /// `text` split before each run of spaces, so that folding (a CRLF before a space) never
    /// leaves a line of only whitespace.
    static func spaceSegments(_ text: String) -> [String] {
        var segments: [String] = []
        var current = ""
        var sawWord = false
        for character in text {
            if character == " " || character == "\t" {
                if sawWord {
                    segments.append(current)
                    current = ""
                    sawWord = false
                }
            } else {
                sawWord = true
            }
            current.append(character)
        }
        if !current.isEmpty { segments.append(current) }
        return segments
    }

    /// `name: ` and the segments, joined with a single space where a segment does not start with
    /// whitespace, and folded (CRLF before the space) so that lines stay within `softLimit` where
    /// possible; nil if some line would exceed `hardLimit`.
    static func fold(name: String, segments: [String], softLimit: Int, hardLimit: Int) -> String? {
        var lines: [String] = []
        var line = "\(name):"
        var lineHasValue = false
        for segment in segments {
            let piece = segment.first == " " || segment.first == "\t" ? segment : " " + segment
            if lineHasValue, line.utf8.count + piece.utf8.count > softLimit {
                lines.append(line)
                line = piece
            } else {
                line += piece
            }
            lineHasValue = true
            if line.utf8.count > hardLimit { return nil }
        }
        if !lineHasValue { line += " " }
        lines.append(line)
        return lines.joined(separator: "\r\n")
    }

    /// The body as quoted-printable UTF-8 with CRLF line endings and lines of at most 76
    /// characters. Any line ending in `text` becomes a CRLF; when `text` does not end with a line
    /// break, its last line ends in a soft break (`=`) so that decoding gives back exactly `text`.
    static func quotedPrintableBody(_ text: String) -> [UInt8] {
        guard !text.isEmpty else { return [] }
        var lines: [[UInt8]] = [[]]
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 13 || byte == 10 {
                if byte == 13, index + 1 < bytes.count, bytes[index + 1] == 10 { index += 1 }
                lines.append([])
            } else {
                lines[lines.count - 1].append(byte)
            }
            index += 1
        }
        let endsWithBreak = lines.last?.isEmpty == true
        if endsWithBreak { lines.removeLast() }

        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for (lineIndex, line) in lines.enumerated() {
            var physical = 0
            for (byteIndex, byte) in line.enumerated() {
                let isLast = byteIndex == line.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                    || ((byte == 32 || byte == 9) && !isLast)
                let token: [UInt8] = literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
                // Leave room for the "=" of a soft break.
                if physical + token.count > 75 {
                    out.append(UInt8(ascii: "="))
                    out.append(contentsOf: crlf)
                    physical = 0
                }
                out.append(contentsOf: token)
                physical += token.count
            }
            if lineIndex == lines.count - 1, !endsWithBreak {
                out.append(UInt8(ascii: "="))
            }
            out.append(contentsOf: crlf)
        }
        return out
    }

    /// Standard base64 with padding.
    static func base64<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index < input.count {
            let b0 = input[index]
            let b1 = index + 1 < input.count ? input[index + 1] : 0
            let b2 = index + 2 < input.count ? input[index + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(index + 1 < input.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(index + 2 < input.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    func trimmingSpacesAndTabs() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let end = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return String(scalars[start...end])
    }

    /// The string with RFC 5322 quoted-pair escapes (`\"`, `\\`) resolved.
    func replacingBackslashEscapes() -> String {
        var result = ""
        var escaping = false
        for character in self {
            if escaping {
                result.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// The string with every `target` replaced by `replacement` (without Foundation).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
