/// Reads one tag the way a browser's tokenizer does (tag name, attribute name and attribute value
/// states), for the two output checkers. Written independently of the sanitiser's own tokenizer.
enum HTMLTagScanner {
    /// A tag as written: its name lowercased, its attributes in order.
    struct Tag {
        /// An attribute as written. `value` is where its value lies in the input (nil without `=`);
        /// `quote` is the quote around it (nil when unquoted).
        struct Attribute {
            let name: String
            let value: Range<Int>?
            let quote: UInt8?
        }

        let name: String
        let isEnd: Bool
        var attributes: [Attribute] = []
        /// How many `/` stood between the name, the attributes and the `>`.
        var slashes = 0
        /// Whether a `>` ended the tag before the input did.
        var closed = false
        /// Where reading goes on after the tag.
        var end = 0
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D }
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    static func string(_ bytes: [UInt8], _ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    /// The tag that starts at the `<` at `start`, or nil when that `<` starts no start or end tag
    /// (a comment, `<!`, `<?`, a stray `<`).
    static func tag(in bytes: [UInt8], at start: Int) -> Tag? {
        var position = start + 1
        var isEnd = false
        if position < bytes.count, bytes[position] == 0x2F {
            isEnd = true
            position += 1
        }
        guard position < bytes.count, isLetter(bytes[position]) else { return nil }
        let nameStart = position
        while position < bytes.count, !isSpace(bytes[position]), bytes[position] != 0x2F, bytes[position] != 0x3E {
            position += 1
        }
        var tag = Tag(name: string(bytes, nameStart..<position).lowercased(), isEnd: isEnd)
        while position < bytes.count {
            while position < bytes.count, isSpace(bytes[position]) || bytes[position] == 0x2F {
                if bytes[position] == 0x2F { tag.slashes += 1 }
                position += 1
            }
            guard position < bytes.count else { break }
            if bytes[position] == 0x3E {
                position += 1
                tag.closed = true
                break
            }
            let attributeStart = position
            position += 1  // The first character may be `=`.
            while position < bytes.count, !isSpace(bytes[position]), bytes[position] != 0x2F,
                bytes[position] != 0x3E, bytes[position] != 0x3D
            {
                position += 1
            }
            let name = string(bytes, attributeStart..<position).lowercased()
            while position < bytes.count, isSpace(bytes[position]) {
                position += 1
            }
            var value: Range<Int>?
            var quote: UInt8?
            if position < bytes.count, bytes[position] == 0x3D {
                position += 1
                while position < bytes.count, isSpace(bytes[position]) {
                    position += 1
                }
                if position < bytes.count, bytes[position] == 0x22 || bytes[position] == 0x27 {
                    let mark = bytes[position]
                    quote = mark
                    let valueStart = position + 1
                    position = valueStart
                    while position < bytes.count, bytes[position] != mark {
                        position += 1
                    }
                    value = valueStart..<min(position, bytes.count)
                    position += 1
                } else {
                    let valueStart = position
                    while position < bytes.count, !isSpace(bytes[position]), bytes[position] != 0x3E {
                        position += 1
                    }
                    value = valueStart..<position
                }
            }
            tag.attributes.append(Tag.Attribute(name: name, value: value, quote: quote))
        }
        tag.end = position
        return tag
    }
}
