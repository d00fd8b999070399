import Foundation

/// One row of a labelled comment CSV in the UCI YouTube Spam Collection format.
public struct LabelledComment: Sendable, Equatable {
    /// The comment's author, empty when the file has no AUTHOR column.
    public var author: String
    /// The comment's text as stored (it may contain HTML), without U+FEFF.
    public var content: String
    /// Whether the row is labelled spam (CLASS 1) rather than ham (CLASS 0).
    public var isSpam: Bool

    /// A labelled comment.
    public init(author: String, content: String, isSpam: Bool) {
        self.author = author
        self.content = content
        self.isSpam = isSpam
    }
}

/// Why a labelled CSV could not be read, and on which line.
public struct LabelledCSVError: Error, Equatable, CustomStringConvertible {
    /// The 1-based line where the offending record (or quoted field) starts.
    public var line: Int
    /// What is wrong there.
    public var reason: String

    /// An error at `line`.
    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    /// `line N: reason`.
    public var description: String { "line \(line): \(reason)" }
}

/// Reading labelled comments from CSV files such as the UCI YouTube Spam Collection's.
public enum LabelledCSV {
    /// Parses RFC 4180 CSV (quoted fields with "" escapes and embedded newlines, LF or CRLF) with a header
    /// that names at least CONTENT and CLASS (AUTHOR optional; match header names case-insensitively; CLASS 1 = spam, 0 = ham).
    /// Throws an error naming the line number for malformed input (unterminated quote, missing columns, bad CLASS).
    ///
    /// Other columns (COMMENT_ID, DATE) are ignored: in the YouTube collection they leak the label.
    /// U+FEFF is removed from AUTHOR and CONTENT for the same reason, and blank lines are skipped.
    /// Errors are ``LabelledCSVError``s.
    public static func parse(_ text: String) throws -> [LabelledComment] {
        let records = try CSVRecords.parse(text)
        guard let header = records.first else { throw LabelledCSVError(line: 1, reason: "empty file, expected a header") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let contentColumn = names.firstIndex(of: "content"), let classColumn = names.firstIndex(of: "class") else {
            throw LabelledCSVError(line: header.line, reason: "the header must name CONTENT and CLASS columns")
        }
        let authorColumn = names.firstIndex(of: "author")
        let needed = max(contentColumn, classColumn, authorColumn ?? 0) + 1

        return try records.dropFirst().map { record in
            guard record.fields.count >= needed else {
                throw LabelledCSVError(line: record.line, reason: "expected at least \(needed) fields, found \(record.fields.count)")
            }
            let isSpam: Bool
            switch record.fields[classColumn].trimmingCharacters(in: .whitespaces) {
            case "1": isSpam = true
            case "0": isSpam = false
            case let other: throw LabelledCSVError(line: record.line, reason: "CLASS must be 0 or 1, found \"\(other)\"")
            }
            return LabelledComment(
                author: authorColumn.map { withoutByteOrderMarks(record.fields[$0]) } ?? "",
                content: withoutByteOrderMarks(record.fields[contentColumn]),
                isSpam: isSpam
            )
        }
    }

    /// Reads the UTF-8 file at `path` and parses it with ``parse(_:)``.
    public static func load(path: String) throws -> [LabelledComment] {
        try parse(String(contentsOfFile: path, encoding: .utf8))
    }

    private static func withoutByteOrderMarks(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "\u{FEFF}" }))
    }
}

/// RFC 4180 records with the line each starts on.
private enum CSVRecords {
    struct Record {
        var line: Int
        var fields: [String]
    }

    /// The records of `text`; blank lines are skipped. Quoted fields may hold commas, `""` for a quote,
    /// and line breaks; a quote inside an unquoted field is kept as text. LF, CRLF and lone CR end lines.
    static func parse(_ text: String) throws -> [Record] {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var records: [Record] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1
        var recordLine = 1
        var index = 0

        func endRecord() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            // A blank line parses as one empty field; it is not a record.
            if fields != [""] { records.append(Record(line: recordLine, fields: fields)) }
            fields = []
        }
        /// The index after the line break at `index` (CRLF counts as one), or nil when there is none.
        func lineBreakEnd(at index: Int) -> Int? {
            switch scalars[index] {
            case "\n": return index + 1
            case "\r": return index + 1 < scalars.count && scalars[index + 1] == "\n" ? index + 2 : index + 1
            default: return nil
            }
        }

        while index < scalars.count {
            let atFieldStart = field.isEmpty
            if atFieldStart, scalars[index] == "\"" {
                let quoteLine = line
                index += 1
                while true {
                    guard index < scalars.count else {
                        throw LabelledCSVError(line: quoteLine, reason: "unterminated quoted field")
                    }
                    if scalars[index] == "\"" {
                        if index + 1 < scalars.count, scalars[index + 1] == "\"" {
                            field.append("\"")
                            index += 2
                        } else {
                            index += 1
                            break
                        }
                    } else if let next = lineBreakEnd(at: index) {
                        field.append(contentsOf: scalars[index..<next])
                        line += 1
                        index = next
                    } else {
                        field.append(scalars[index])
                        index += 1
                    }
                }
                guard index == scalars.count || scalars[index] == "," || lineBreakEnd(at: index) != nil else {
                    throw LabelledCSVError(line: line, reason: "unexpected text after a closing quote")
                }
            } else if scalars[index] == "," {
                fields.append(String(field))
                field = String.UnicodeScalarView()
                index += 1
            } else if let next = lineBreakEnd(at: index) {
                endRecord()
                line += 1
                recordLine = line
                index = next
            } else {
                field.append(scalars[index])
                index += 1
            }
        }
        if !fields.isEmpty || !field.isEmpty { endRecord() }
        return records
    }
}
