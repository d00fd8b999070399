/// Byte-level substring checks, a cheap test before a Character-level search.
enum UTF8Search {
    /// Whether every scalar of `text` is ASCII.
    static func isASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 < 0x80 }
    }

    /// Whether `needle`'s UTF-8 bytes occur in `text`'s.
    static func contains<Text: StringProtocol>(_ text: Text, _ needle: StaticString, caseInsensitiveASCII: Bool = false) -> Bool {
        let pattern = Array(UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount))
        guard let first = pattern.first else { return true }
        let fold: (UInt8) -> UInt8 = caseInsensitiveASCII ? { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 } : { $0 }
        return text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard bytes.count >= pattern.count else { return false }
            var index = 0
            let last = bytes.count - pattern.count
            while index <= last {
                if fold(bytes[index]) == first {
                    var matched = 1
                    while matched < pattern.count && fold(bytes[index + matched]) == pattern[matched] { matched += 1 }
                    if matched == pattern.count { return true }
                }
                index += 1
            }
            return false
        } ?? true // not contiguous (bridged): let the full search decide
    }
}
