import Foundation

/// JSON text columns (`origins`, `spam_reasons`, `moderators`, outbox `recipients` and
/// `headers`), written and read alike by both stores.
enum JSONText {
    /// A list of strings as a JSON array.
    static func encode(_ strings: [String]) -> String {
        var json = JSONWriter(capacity: 16 + strings.count * 32)
        json.strings(strings)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    /// A list of string lists (mail headers) as a JSON array of arrays.
    static func encodeRows(_ rows: [[String]]) -> String {
        let data = (try? JSONEncoder().encode(rows)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// What `encodeRows` wrote; empty for nothing or anything else.
    static func decodeRows(_ text: String?) -> [[String]] {
        guard let text, let value = try? JSONDecoder().decode([[String]].self, from: Data(text.utf8)) else { return [] }
        return value
    }

    /// What `encode` wrote; empty for nothing or anything else.
    static func decode(_ text: String?) -> [String] {
        guard let text else { return [] }
        if let plain = plainStrings(text) { return plain }
        guard let value = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else { return [] }
        return value
    }

    /// A JSON array of strings without escapes and without whitespace, as `encode` writes spam
    /// reasons (`["links:3","shouting"]`), read without a decoder; nil for anything else, which
    /// `decode` hands to `JSONDecoder`. Every comment read decoded its reasons: 2 % of the
    /// server's time under the mixed load.
    static func plainStrings(_ text: String) -> [String]? {
        var text = text
        return text.withUTF8 { bytes -> [String]? in
            let (open, close, quote, comma, backslash): (UInt8, UInt8, UInt8, UInt8, UInt8) = (0x5B, 0x5D, 0x22, 0x2C, 0x5C)
            guard bytes.count >= 2, bytes[0] == open, bytes[bytes.count - 1] == close else { return nil }
            var strings: [String] = []
            var index = 1
            let end = bytes.count - 1
            while index < end {
                guard bytes[index] == quote else { return nil }
                let start = index + 1
                var cursor = start
                while cursor < end, bytes[cursor] != quote {
                    // Escapes and control characters (invalid unescaped) go to the real decoder.
                    if bytes[cursor] == backslash || bytes[cursor] < 0x20 { return nil }
                    cursor += 1
                }
                guard cursor < end else { return nil }
                strings.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<cursor]), as: UTF8.self))
                index = cursor + 1
                if index < end {
                    guard bytes[index] == comma, index + 1 < end else { return nil }
                    index += 1
                }
            }
            return strings
        }
    }
}
