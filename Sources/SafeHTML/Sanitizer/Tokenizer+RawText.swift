/// Where raw text, RCDATA and script data end, and what their content is.
extension HTMLSanitizer.Tokenizer {
    /// Reads the content of a raw text element (or nothing for ordinary markup) and its end tag.
    mutating func content(_ model: HTMLSanitizer.ContentModel, into builder: inout HTMLSanitizer.TreeBuilder) {
        let end: Int?
        let keep: Bool
        switch model {
        case .markup:
            return
        case .plaintext(let keepText):
            if keepText { builder.text(replacingNUL(input[position...])) }
            position = input.count
            return
        case .rawText(let name, let keepText):
            end = findEndTag(name, from: position)
            keep = keepText
        case .script:
            end = findScriptEnd(from: position)
            keep = false
        }
        guard let end else {
            if keep { builder.text(replacingNUL(input[position...])) }
            position = input.count
            return
        }
        if keep { builder.text(replacingNUL(input[position..<end])) }
        guard let (tag, after) = scanTag(nameStart: end + 2, isEnd: true) else {
            position = end
            unterminatedTag(into: &builder)
            return
        }
        position = after
        builder.endTag(tag.name)
    }

    /// Raw text keeps `&` as typed; only NUL is replaced.
    func replacingNUL(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        guard bytes.contains(0) else { return Array(bytes) }
        var out: [UInt8] = []
        for byte in bytes {
            if byte == 0 { out.append(contentsOf: ASCII.replacement) } else { out.append(byte) }
        }
        return out
    }

    /// Whether an end tag for `name` (lowercase) starts at `index`: `</name` then whitespace, `/` or `>`.
    func isEndTag(_ name: [UInt8], at index: Int) -> Bool {
        let after = index + 2 + name.count
        guard after < input.count, input[index] == ASCII.lessThan, input[index + 1] == ASCII.slash else {
            return false
        }
        for offset in 0..<name.count where ASCII.lowercased(input[index + 2 + offset]) != name[offset] {
            return false
        }
        let byte = input[after]
        return ASCII.isWhitespace(byte) || byte == ASCII.slash || byte == ASCII.greaterThan
    }

    func findEndTag(_ name: [UInt8], from start: Int) -> Int? {
        var index = start
        while index < input.count {
            if input[index] == ASCII.lessThan, isEndTag(name, at: index) { return index }
            index += 1
        }
        return nil
    }

    /// Where script data ends. `<!--` starts an escaped section in which `<script>` starts a
    /// double-escaped one that `</script>` only leaves; `-->` ends both. Browsers do this so
    /// old pages that hid scripts in comments keep working, and it decides what is script.
    func findScriptEnd(from start: Int) -> Int? {
        let script = Array("script".utf8)
        /// The script data states that matter for finding the end.
        enum State { case data, escaped, doubleEscaped }
        var state = State.data
        var dashes = 0
        var index = start
        while index < input.count {
            let byte = input[index]
            switch state {
            case .data:
                if byte == ASCII.lessThan {
                    if isEndTag(script, at: index) { return index }
                    if starts(with: "<!--", at: index) {
                        state = .escaped
                        dashes = 2
                        index += 4
                        continue
                    }
                }
            case .escaped, .doubleEscaped:
                if byte == ASCII.dash {
                    dashes += 1
                    index += 1
                    continue
                }
                if byte == ASCII.greaterThan, dashes >= 2 {
                    state = .data
                } else if byte == ASCII.lessThan {
                    if state == .escaped {
                        if isEndTag(script, at: index) { return index }
                        if isStartTag(script, at: index) {
                            state = .doubleEscaped
                            index += 1 + script.count
                            dashes = 0
                            continue
                        }
                    } else if isEndTag(script, at: index) {
                        state = .escaped
                        index += 2 + script.count
                        dashes = 0
                        continue
                    }
                }
                dashes = 0
            }
            index += 1
        }
        return nil
    }

    /// Whether `<name` followed by whitespace, `/` or `>` starts at `index`.
    func isStartTag(_ name: [UInt8], at index: Int) -> Bool {
        let after = index + 1 + name.count
        guard after < input.count else { return false }
        for offset in 0..<name.count where ASCII.lowercased(input[index + 1 + offset]) != name[offset] {
            return false
        }
        let byte = input[after]
        return ASCII.isWhitespace(byte) || byte == ASCII.slash || byte == ASCII.greaterThan
    }
}
