extension Substring {
    /// Without the spaces and tabs HTTP allows around header values, list items and parameters.
    var trimmingASCIISpaces: Substring {
        let isSpace = { (character: Character) in character == " " || character == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
