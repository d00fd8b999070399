extension Markdown {
    /// The normalised source as UTF-8 bytes, split into lines.
    struct SourceText {
        /// Source bytes with NUL replaced by U+FFFD and CR / CRLF folded to LF.
        let bytes: [UInt8]
        /// Each line, unstripped, with where its leading whitespace ends.
        let lines: [Line]

        /// Normalises the source and splits it into lines.
        init(_ source: String) {
            var bytes = Array(source.utf8)
            let needsNormalizing = bytes.withUnsafeBufferPointer { bytes in
                var index = 0
                while index < bytes.count, bytes[index] != 0, bytes[index] != ASCII.carriageReturn {
                    index += 1
                }
                return index < bytes.count
            }
            if needsNormalizing {
                bytes = Self.normalized(bytes)
            }
            var lines: [Line] = []
            // Unsafe buffers because this is the only pass over every byte of a document that may be
            // far longer than a comment, and it should stay fast in debug builds too.
            bytes.withUnsafeBufferPointer { bytes in
                var start = 0
                while start <= bytes.count {
                    var index = start
                    var column = 0
                    while index < bytes.count {
                        let byte = bytes[index]
                        if byte == ASCII.space {
                            column += 1
                        } else if byte == ASCII.tab {
                            column += 4 - column % 4
                        } else {
                            break
                        }
                        index += 1
                    }
                    let indentEnd = index
                    while index < bytes.count, bytes[index] != ASCII.lineFeed {
                        index += 1
                    }
                    // A final LF ends the last line; it does not start an empty one.
                    if index < bytes.count || start < bytes.count {
                        lines.append(Line(position: start, end: index, indentEnd: indentEnd, indentEndColumn: column))
                    }
                    start = index + 1
                }
            }
            self.bytes = bytes
            self.lines = lines
        }

        /// NUL becomes U+FFFD; CR and CRLF become LF.
        private static func normalized(_ input: [UInt8]) -> [UInt8] {
            var output: [UInt8] = []
            output.reserveCapacity(input.count + 16)
            var afterCarriageReturn = false
            for byte in input {
                switch byte {
                case 0:
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                case ASCII.carriageReturn:
                    output.append(ASCII.lineFeed)
                case ASCII.lineFeed where afterCarriageReturn:
                    break
                default:
                    output.append(byte)
                }
                afterCarriageReturn = byte == ASCII.carriageReturn
            }
            return output
        }
    }
}

extension Markdown {
    /// One source line with the prefixes of its enclosing containers (`>` markers, list indentation)
    /// stripped. Prefixes are ASCII, so columns are byte offsets except where tabs expand to the next
    /// multiple of 4; `indentEnd` lets every depth find the end of the raw line's leading whitespace
    /// without rescanning it, which keeps deep nesting linear.
    struct Line {
        var position: Int
        let end: Int
        /// First byte of the raw line that is not a space or tab, and its column.
        let indentEnd: Int
        let indentEndColumn: Int
        /// Column of `position` in the raw line.
        var column = 0
        /// Columns left over from a tab that a container prefix only partly consumed; they count
        /// as spaces before `position`.
        var virtualSpaces = 0
        /// A lazy continuation line: it continues the innermost open paragraph, whatever it looks like.
        var isLazy = false

        init(position: Int, end: Int, indentEnd: Int, indentEndColumn: Int) {
            self.position = position
            self.end = end
            self.indentEnd = indentEnd
            self.indentEndColumn = indentEndColumn
        }
    }
}
