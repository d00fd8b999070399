/// Reads TOML 1.0 as far as a configuration file needs it: comments, `[table]` headers, dotted
/// and quoted keys, the four kinds of strings, integers (decimal, hex, octal, binary), floats,
/// booleans and arrays. Dates, inline tables and arrays of tables are refused with a clear
/// error rather than misread.
///
/// Hand-written because a configuration error must name its line, and the one TOML package
/// available here (TOMLKit, a wrapper of C++ toml++) keeps no position for keys.
public struct TOMLDocument {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1

    /// The entries of `text` in document order.
    public static func parse(_ text: String) throws(TOMLError) -> [TOMLEntry] {
        var parser = TOMLDocument(bytes: Array(text.utf8))
        return try parser.document()
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func document() throws(TOMLError) -> [TOMLEntry] {
        var entries: [TOMLEntry] = []
        var lineOfKey: [String: Int] = [:]
        // Tables by how they came to be: a [header], a dotted key, or implied as a parent.
        var headerTables: [String: Int] = [:]
        var dottedTables: Set<String> = []
        var impliedTables: Set<String> = []
        var prefix: [String] = []
        func ancestors(_ path: [String]) -> [String] {
            (1..<max(path.count, 1)).map { path[..<$0].joined(separator: ".") }
        }
        while true {
            skipSpaces()
            guard let byte = peek() else { break }
            if byte == UInt8(ascii: "#") {
                try skipComment()
                continue
            }
            if try consumeNewline() { continue }
            let start = line
            if byte == UInt8(ascii: "[") {
                index += 1
                if peek() == UInt8(ascii: "[") { throw fail("arrays of tables ([[…]]) are not supported in this file") }
                skipSpaces()
                prefix = try keyPath()
                skipSpaces()
                guard peek() == UInt8(ascii: "]") else { throw fail("a table header must end with ']'") }
                index += 1
                let name = prefix.joined(separator: ".")
                if let first = headerTables[name] { throw TOMLError(line: start, message: "table [\(name)] is defined twice (first on line \(first))") }
                if dottedTables.contains(name) { throw TOMLError(line: start, message: "table [\(name)] was already defined by dotted keys") }
                for table in ancestors(prefix) + [name] {
                    if let first = lineOfKey[table] { throw TOMLError(line: start, message: "'\(table)' is already a value (line \(first)), not a table") }
                }
                headerTables[name] = start
                impliedTables.formUnion(ancestors(prefix) + [name])
            } else {
                let path = prefix + (try keyPath())
                skipSpaces()
                guard peek() == UInt8(ascii: "=") else { throw fail("expected '=' after the key '\(path.joined(separator: "."))'") }
                index += 1
                skipSpaces()
                let value = try value()
                let key = path.joined(separator: ".")
                if let first = lineOfKey[key] { throw TOMLError(line: start, message: "'\(key)' is set twice (first on line \(first))") }
                if impliedTables.contains(key) { throw TOMLError(line: start, message: "'\(key)' is already a table") }
                for depth in 1..<path.count {
                    let parent = path[..<depth].joined(separator: ".")
                    if let first = lineOfKey[parent] { throw TOMLError(line: start, message: "'\(parent)' is already a value (line \(first)), not a table") }
                    if depth > prefix.count {
                        if headerTables[parent] != nil { throw TOMLError(line: start, message: "table [\(parent)] cannot be extended by a dotted key") }
                        dottedTables.insert(parent)
                        impliedTables.insert(parent)
                    }
                }
                lineOfKey[key] = start
                entries.append(TOMLEntry(key: key, value: value, line: start))
            }
            try endOfLine()
        }
        return entries
    }

    // MARK: Lexical pieces

    private func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    private func fail(_ message: String) -> TOMLError {
        TOMLError(line: line, message: message)
    }

    private mutating func skipSpaces() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 { index += 1 }
    }

    /// Consumes a newline (LF or CRLF) if one is next.
    private mutating func consumeNewline() throws(TOMLError) -> Bool {
        if peek() == 0x0A {
            index += 1
            line += 1
            return true
        }
        if peek() == 0x0D {
            guard peek(1) == 0x0A else { throw fail("a carriage return must be followed by a line feed") }
            index += 2
            line += 1
            return true
        }
        return false
    }

    private mutating func skipComment() throws(TOMLError) {
        while let byte = peek(), byte != 0x0A, byte != 0x0D {
            if byte < 0x20 && byte != 0x09 || byte == 0x7F { throw fail("control characters are not allowed in comments") }
            index += 1
        }
    }

    /// After a key/value pair or a table header only spaces and a comment may follow.
    private mutating func endOfLine() throws(TOMLError) {
        skipSpaces()
        if peek() == UInt8(ascii: "#") { try skipComment() }
        if peek() == nil { return }
        guard try consumeNewline() else {
            throw fail("unexpected text after the value; one key = value per line")
        }
    }

    /// Spaces, newlines and comments between the elements of an array.
    private mutating func skipBlank() throws(TOMLError) {
        while true {
            skipSpaces()
            if peek() == UInt8(ascii: "#") { try skipComment() }
            if try !consumeNewline() { return }
        }
    }

    private static func isBare(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"): true
        default: false
        }
    }

    private mutating func keyPath() throws(TOMLError) -> [String] {
        var parts = [try simpleKey()]
        while true {
            let mark = index
            skipSpaces()
            guard peek() == UInt8(ascii: ".") else {
                index = mark
                return parts
            }
            index += 1
            skipSpaces()
            parts.append(try simpleKey())
        }
    }

    private mutating func simpleKey() throws(TOMLError) -> String {
        switch peek() {
        case UInt8(ascii: "\""):
            if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") { throw fail("a key cannot be a multi-line string") }
            return try basicString()
        case UInt8(ascii: "'"):
            if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") { throw fail("a key cannot be a multi-line string") }
            return try literalString()
        case let byte? where Self.isBare(byte):
            let start = index
            while let byte = peek(), Self.isBare(byte) { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        default:
            throw fail("expected a key (letters, digits, '_' and '-', or a quoted string)")
        }
    }

    // MARK: Values

    private mutating func value() throws(TOMLError) -> TOMLValue {
        switch peek() {
        case nil, 0x0A?, 0x0D?, UInt8(ascii: "#")?:
            throw fail("a value is missing after '='")
        case UInt8(ascii: "\"")?:
            if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") { return .string(try multilineString(literal: false)) }
            return .string(try basicString())
        case UInt8(ascii: "'")?:
            if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") { return .string(try multilineString(literal: true)) }
            return .string(try literalString())
        case UInt8(ascii: "[")?:
            return try array()
        case UInt8(ascii: "{")?:
            throw fail("inline tables ({…}) are not supported in this file; use a [table] header")
        case UInt8(ascii: "t")?, UInt8(ascii: "f")?:
            if word("true") { return .boolean(true) }
            if word("false") { return .boolean(false) }
            throw fail("unknown value; strings need quotes")
        default:
            return try number()
        }
    }

    /// Consumes `text` if it is next and not followed by more of a bare word.
    private mutating func word(_ text: String) -> Bool {
        let expected = Array(text.utf8)
        guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected else { return false }
        if let next = peek(expected.count), Self.isBare(next) { return false }
        index += expected.count
        return true
    }

    private mutating func array() throws(TOMLError) -> TOMLValue {
        index += 1
        var elements: [TOMLValue] = []
        while true {
            try skipBlank()
            if peek() == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            elements.append(try value())
            try skipBlank()
            switch peek() {
            case UInt8(ascii: ",")?: index += 1
            case UInt8(ascii: "]")?: continue
            default: throw fail("expected ',' or ']' in the array")
            }
        }
    }

    private mutating func number() throws(TOMLError) -> TOMLValue {
        let start = index
        while let byte = peek(), Self.isBare(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":") {
            index += 1
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard !text.isEmpty else { throw fail("unknown value; strings need quotes") }
        if let value = Self.integer(text) { return .integer(value) }
        if let value = Self.float(text) { return .float(value) }
        if text.contains(":") || (text.count >= 10 && text.dropFirst(4).first == "-") {
            throw TOMLError(line: line, message: "dates and times are not supported in this file; write them as strings")
        }
        throw TOMLError(line: line, message: "'\(text)' is not a valid value; strings need quotes")
    }

    /// Digits with single underscores only between digits.
    private static func digits(_ text: Substring, radix: Int) -> String? {
        guard let first = text.first, let last = text.last, first != "_", last != "_", !text.contains("__") else { return nil }
        let plain = text.filter { $0 != "_" }
        guard plain.allSatisfy({ $0.isHexDigit && Int(String($0), radix: radix) != nil }) else { return nil }
        return plain
    }

    private static func integer(_ text: String) -> Int? {
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where text.hasPrefix(prefix) {
            return digits(text.dropFirst(2), radix: radix).flatMap { Int($0, radix: radix) }
        }
        var body = Substring(text)
        var sign = ""
        if body.first == "+" || body.first == "-" {
            sign = body.first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        guard let plain = digits(body, radix: 10) else { return nil }
        if plain.count > 1 && plain.first == "0" { return nil }
        return Int(sign + plain)
    }

    private static func float(_ text: String) -> Double? {
        switch text {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "+nan", "-nan": return .nan
        default: break
        }
        var body = Substring(text)
        var sign = ""
        if body.first == "+" || body.first == "-" {
            sign = body.first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        let exponentSplit = body.split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false)
            .flatMap { $0.split(separator: "E", maxSplits: 1, omittingEmptySubsequences: false) }
        guard exponentSplit.count <= 2, let mantissa = exponentSplit.first else { return nil }
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = digits(parts[0], radix: 10), !(whole.count > 1 && whole.first == "0") else { return nil }
        var plain = sign + whole
        if parts.count == 2 {
            guard let fraction = digits(parts[1], radix: 10) else { return nil }
            plain += "." + fraction
        }
        if exponentSplit.count == 2 {
            var exponent = exponentSplit[1]
            var exponentSign = ""
            if exponent.first == "+" || exponent.first == "-" {
                exponentSign = exponent.first == "-" ? "-" : ""
                exponent = exponent.dropFirst()
            }
            guard let power = digits(exponent, radix: 10) else { return nil }
            plain += "e" + exponentSign + power
        } else if parts.count == 1 {
            return nil
        }
        return Double(plain)
    }

    // MARK: Strings

    private mutating func basicString() throws(TOMLError) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw fail("the string is not closed") }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try escape(into: &out)
            case 0x0A, 0x0D:
                throw fail("the string is not closed before the end of the line")
            default:
                if byte < 0x20 && byte != 0x09 || byte == 0x7F { throw fail("control characters must be escaped in strings") }
                out.append(byte)
                index += 1
            }
        }
    }

    private mutating func literalString() throws(TOMLError) -> String {
        index += 1
        let start = index
        while true {
            guard let byte = peek() else { throw fail("the string is not closed") }
            if byte == UInt8(ascii: "'") {
                defer { index += 1 }
                return String(decoding: bytes[start..<index], as: UTF8.self)
            }
            if byte == 0x0A || byte == 0x0D { throw fail("the string is not closed before the end of the line") }
            if byte < 0x20 && byte != 0x09 || byte == 0x7F { throw fail("control characters are not allowed in literal strings") }
            index += 1
        }
    }

    /// `"""…"""` or `'''…'''`: a newline right after the opening quotes is dropped; in the basic
    /// form a backslash at the end of a line joins it to the next non-blank text.
    private mutating func multilineString(literal: Bool) throws(TOMLError) -> String {
        let quote = literal ? UInt8(ascii: "'") : UInt8(ascii: "\"")
        index += 3
        _ = try consumeNewline()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw fail("the multi-line string is not closed") }
            if byte == quote, peek(1) == quote, peek(2) == quote {
                // Up to two quotes right before the closing three belong to the string.
                var extra = 0
                while extra < 2, peek(3 + extra) == quote { extra += 1 }
                out.append(contentsOf: repeatElement(quote, count: extra))
                index += 3 + extra
                return String(decoding: out, as: UTF8.self)
            }
            if byte == 0x0A || byte == 0x0D {
                _ = try consumeNewline()
                out.append(0x0A)
                continue
            }
            if !literal, byte == UInt8(ascii: "\\") {
                var probe = index + 1
                while probe < bytes.count, bytes[probe] == 0x20 || bytes[probe] == 0x09 { probe += 1 }
                if probe < bytes.count, bytes[probe] == 0x0A || bytes[probe] == 0x0D {
                    index = probe
                    try skipBlankLines()
                    continue
                }
                try escape(into: &out)
                continue
            }
            if byte < 0x20 && byte != 0x09 || byte == 0x7F { throw fail("control characters must be escaped in strings") }
            out.append(byte)
            index += 1
        }
    }

    private mutating func skipBlankLines() throws(TOMLError) {
        while true {
            skipSpaces()
            if try !consumeNewline() { return }
        }
    }

    private mutating func escape(into out: inout [UInt8]) throws(TOMLError) {
        index += 1
        guard let code = peek() else { throw fail("the string is not closed") }
        index += 1
        switch code {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = code == UInt8(ascii: "u") ? 4 : 8
            guard index + count <= bytes.count,
                  let value = UInt32(String(decoding: bytes[index..<index + count], as: UTF8.self), radix: 16),
                  let scalar = Unicode.Scalar(value) else {
                throw fail("\\\(Character(Unicode.Scalar(code))) needs \(count) hex digits naming a Unicode scalar")
            }
            index += count
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw fail("unknown escape '\\\(Character(Unicode.Scalar(code)))' in a string")
        }
    }
}
