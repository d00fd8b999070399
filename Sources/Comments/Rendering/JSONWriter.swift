/// Appends JSON straight into bytes. Threads are encoded by hand rather than through
/// `JSONEncoder`: it is several times faster and, being iterative, never runs out of stack on a
/// reply chain thousands of levels deep.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends structural characters or a pre-encoded fragment as is.
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends a quoted, escaped JSON string. Unless `htmlSafe` is false, `<`, `>` and `&` are
    /// written as `\u003c`-style escapes too (the same value to any JSON parser), so a user string
    /// can never form markup in the raw bytes, even for a client that mishandles them.
    public mutating func string(_ value: String, htmlSafe: Bool = true) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"):
                if htmlSafe {
                    bytes.append(contentsOf: "\\u00".utf8)
                    bytes.append(Self.hex[Int(byte >> 4)])
                    bytes.append(Self.hex[Int(byte & 0xF)])
                } else {
                    bytes.append(byte)
                }
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
            case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(Self.hex[Int(byte >> 4)])
                bytes.append(Self.hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a string, or `null`.
    public mutating func string(_ value: String?) {
        if let value { string(value) } else { raw("null") }
    }

    /// Appends an integer.
    public mutating func number<I: BinaryInteger>(_ value: I) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Appends an integer, or `null`.
    public mutating func number<I: BinaryInteger>(_ value: I?) {
        if let value { number(value) } else { raw("null") }
    }

    /// Appends a double in its shortest exact form (integral values as `2.0`).
    public mutating func double(_ value: Double) {
        bytes.append(contentsOf: (value.isFinite ? "\(value)" : "0").utf8)
    }

    /// Appends an array of strings.
    public mutating func strings(_ values: [String]) {
        raw("[")
        for (index, value) in values.enumerated() {
            if index > 0 { raw(",") }
            string(value)
        }
        raw("]")
    }

    /// Appends `true` or `false`.
    public mutating func bool(_ value: Bool) {
        raw(value ? "true" : "false")
    }

    /// Appends `"key":`.
    public mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        bytes.append(contentsOf: "\":".utf8)
    }
}
