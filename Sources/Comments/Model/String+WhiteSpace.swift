extension StringProtocol {
    /// The text without leading and trailing white space (Unicode `White_Space`: the same set as
    /// Foundation's `.whitespacesAndNewlines`).
    ///
    /// Not `trimmingCharacters(in:)`: on Linux that goes through `NSString` and costs more than
    /// everything else an import does with a name; here text with nothing to trim is not copied.
    public func trimmingWhiteSpace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        if first == scalars.startIndex, scalars.index(after: last) == scalars.endIndex, let whole = self as? String {
            return whole
        }
        return String(self[first...last])
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces and control characters.
    func trimmingASCIIWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { $0.value > 0x20 }),
              let end = scalars.lastIndex(where: { $0.value > 0x20 })
        else { return "" }
        return String(scalars[start...end])
    }
}
