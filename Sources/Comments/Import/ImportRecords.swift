import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

// MARK: - Records

/// A thread (page) as an export describes it.
public struct ImportedThread: Sendable, Equatable {
    /// The export's own id: the Disqus thread `dsq:id`, or the WordPress `wp:post_id`
    /// (an item without one falls back to its `link`, then its `guid`, then `item-N`).
    public var key: String
    /// The page URL as exported.
    public var link: String?
    /// Other names of the page: Disqus `<id>` values (often none), WordPress `post_name` and `guid`.
    public var identifiers: [String]
    /// The page title as exported (entities decoded by the XML parser, otherwise untouched).
    public var title: String?
    /// Creation time in unix milliseconds, UTC.
    public var createdAt: Int64?
    /// Whether new comments were closed on the page.
    public var isClosed: Bool
    /// Whether the page was deleted (Disqus `isDeleted`, WordPress status `trash`).
    public var isDeleted: Bool

    /// Creates a thread record.
    public init(key: String, link: String? = nil, identifiers: [String] = [], title: String? = nil,
                createdAt: Int64? = nil, isClosed: Bool = false, isDeleted: Bool = false) {
        self.key = key
        self.link = link
        self.identifiers = identifiers
        self.title = title
        self.createdAt = createdAt
        self.isClosed = isClosed
        self.isDeleted = isDeleted
    }
}

/// A comment as an export describes it.
public struct ImportedPost: Sendable, Equatable {
    /// The export's own id, unprefixed (`"123"`); the importer forms the provenance
    /// (`disqus:123`, `wordpress:45`) from it.
    public var key: String
    /// The `key` of the thread the comment belongs to (which may not exist in the file).
    public var threadKey: String
    /// The `key` of the comment replied to, if any. It may appear later in the file, or not at all.
    public var parentKey: String?
    /// The author's display name.
    public var authorName: String?
    /// The author's e-mail address.
    public var authorEmail: String?
    /// The author's website.
    public var authorURL: String?
    /// The author's IP address as exported.
    public var ip: String?
    /// The message as exported (HTML). Backslashes and whitespace are exactly as the file holds
    /// them; only whitespace outside CDATA sections at the ends (pretty-printing) is dropped.
    public var html: String
    /// Creation time in unix milliseconds, UTC.
    public var createdAt: Int64?
    /// Moderation state.
    public var status: ImportedStatus
    /// Up-votes, when the export has them.
    public var likes: Int
    /// Down-votes, when the export has them.
    public var dislikes: Int

    /// Creates a post record.
    public init(key: String, threadKey: String, parentKey: String? = nil, authorName: String? = nil,
                authorEmail: String? = nil, authorURL: String? = nil, ip: String? = nil, html: String,
                createdAt: Int64? = nil, status: ImportedStatus = .approved, likes: Int = 0, dislikes: Int = 0) {
        self.key = key
        self.threadKey = threadKey
        self.parentKey = parentKey
        self.authorName = authorName
        self.authorEmail = authorEmail
        self.authorURL = authorURL
        self.ip = ip
        self.html = html
        self.createdAt = createdAt
        self.status = status
        self.likes = likes
        self.dislikes = dislikes
    }
}

/// The moderation state of an imported comment.
public enum ImportedStatus: String, Sendable {
    /// Published.
    case approved
    /// Awaiting moderation (WordPress `0`, or no approval value at all).
    case pending
    /// Marked as spam.
    case spam
    /// Deleted or trashed.
    case deleted
}

/// One thing a reader found in an export, in file order.
public enum ImportEvent: Sendable, Equatable {
    /// A thread (page).
    case thread(ImportedThread)
    /// A comment.
    case post(ImportedPost)
    /// A record left out: a pingback or trackback, or (with `skipInvalid`) an invalid record.
    /// `line` is where the record starts.
    case skipped(reason: String, line: Int)
}

/// A malformed file: what and where.
public struct ImportError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What is wrong.
    public var message: String
    /// The 1-based line of the problem; 0 when the problem has no position (the file cannot be read).
    public var line: Int
    /// The 1-based column of the problem, as the XML parser reports it; 0 when unknown.
    public var column: Int

    /// Creates an error.
    public init(message: String, line: Int, column: Int) {
        self.message = message
        self.line = line
        self.column = column
    }

    /// `line L, column C: message`, or just the message when there is no position.
    public var description: String {
        line > 0 ? "line \(line), column \(column): \(message)" : message
    }
}

// MARK: - Shared streaming machinery

/// A position in the file being read, 1-based.
struct ImportPosition {
    /// Line number.
    var line: Int
    /// Column number.
    var column: Int
}

/// An element name with the namespace URI it resolved to ("" when none).
struct ImportElementName {
    /// Local name, without prefix.
    var local: String
    /// Namespace URI.
    var namespace: String
}

/// The attributes of a start tag, resolved against the namespace prefixes in scope.
struct ImportAttributes {
    private var entries: [(local: Substring, namespace: String, value: String)] = []

    /// Resolves `raw` (keyed by qualified name) with the innermost binding of each prefix.
    init(_ raw: [String: String], prefixes: [String: [String]]) {
        for (name, value) in raw {
            if let colon = name.firstIndex(of: ":") {
                let prefix = String(name[..<colon])
                let namespace = prefix == "xml"
                    ? "http://www.w3.org/XML/1998/namespace"
                    : (prefixes[prefix]?.last ?? "")
                entries.append((name[name.index(after: colon)...], namespace, value))
            } else {
                // Unprefixed attributes are in no namespace; the default namespace does not apply.
                entries.append((Substring(name), "", value))
            }
        }
    }

    /// The value of the attribute `local` in `namespace` ("" for no namespace).
    func value(_ local: String, namespace: String) -> String? {
        entries.first { $0.local == local && $0.namespace == namespace }?.value
    }
}

/// The text of one element, collected from its character data and CDATA sections.
struct ImportTextCapture {
    private(set) var bytes: [UInt8] = []
    private var firstCDATA: Int?
    private var endOfLastCDATA: Int?

    /// Adds character data (entities already replaced by the parser).
    mutating func append(text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Adds the content of a CDATA section, byte for byte.
    mutating func append(cdata: Data) {
        if firstCDATA == nil { firstCDATA = bytes.count }
        bytes.append(contentsOf: cdata)
        endOfLastCDATA = bytes.count
    }

    /// The collected text. When the element holds CDATA, whitespace-only text before the first
    /// and after the last CDATA section is pretty-printing and is dropped; nothing else changes.
    func finish() -> String {
        guard let first = firstCDATA, let end = endOfLastCDATA else {
            return String(decoding: bytes, as: UTF8.self)
        }
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        let lower = bytes[..<first].allSatisfy(isSpace) ? first : 0
        let upper = bytes[end...].allSatisfy(isSpace) ? end : bytes.count
        return String(decoding: bytes[lower..<upper], as: UTF8.self)
    }
}

/// What a format-specific reader does with the elements of a streaming parse.
protocol ImportRecordBuilder: AnyObject {
    /// Called at each start tag (`depth` 1 is the root); returns whether the element's text
    /// (including its descendants' text) should be collected and passed to `didEnd`.
    func didStart(_ name: ImportElementName, depth: Int, attributes: ImportAttributes,
                  at position: ImportPosition) throws -> Bool
    /// Called at each end tag, with the collected text when `didStart` asked for it.
    func didEnd(_ name: ImportElementName, depth: Int, text: String?) throws
}

/// Runs `XMLParser` over a file as a stream and hands namespace-resolved elements to a builder.
///
/// Memory stays flat: the file is fed to libxml2 in chunks (`XMLParser(stream:)`), and only the
/// text of elements the builder asks for is kept, up to `maxTextBytes` each.
final class ImportXMLDriver: NSObject, XMLParserDelegate {
    /// The most text one element may hold; a bound on what a hostile file can make us keep.
    static let maxTextBytes = 8 << 20

    private let builder: any ImportRecordBuilder
    private var openElements: [String] = []
    private var sawRoot = false
    private var rootClosed = false
    private var prefixes: [String: [String]] = [:]
    private var capture: ImportTextCapture?
    private var captureDepth = 0
    private var failure: (any Error)?
    private var stopped = false

    private init(builder: any ImportRecordBuilder) {
        self.builder = builder
    }

    /// Parses the file at `url`, throwing the first `ImportError` (or error from the builder).
    static func run(url: URL, builder: any ImportRecordBuilder) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory),
              !isDirectory.boolValue, FileManager.default.isReadableFile(atPath: url.path),
              let stream = InputStream(url: url) else {
            throw ImportError(message: "cannot read \(url.path)", line: 0, column: 0)
        }
        try rejectInternalSubset(url: url)
        let parser = XMLParser(stream: stream)
        parser.shouldProcessNamespaces = true
        parser.shouldReportNamespacePrefixes = true
        parser.shouldResolveExternalEntities = false
        parser.externalEntityResolvingPolicy = .never
        let driver = ImportXMLDriver(builder: builder)
        parser.delegate = driver
        // The delegate property is weak; keep the driver alive until parsing is over.
        withExtendedLifetime(driver) {
            _ = parser.parse()
        }
        try driver.finish(parser)
    }

    /// How much of the file `rejectInternalSubset` reads at a time; it reads the whole prolog,
    /// however long, a chunk at a time.
    static let prologScanBytes = 1 << 20

    /// Encodings an export may declare: those in which every ASCII character is itself (so the
    /// prolog check reads what the parser reads), plus UTF-16.
    static let acceptedEncodings: Set<String> = {
        var names: Set<String> = ["utf-8", "utf8", "utf-16", "utf16", "utf-16le", "utf-16be", "us-ascii", "ascii", "latin1", "latin-1"]
        for part in 1...16 { names.insert("iso-8859-\(part)"); names.insert("iso8859-\(part)"); names.insert("iso_8859-\(part)") }
        for page in 1250...1258 { names.insert("windows-\(page)"); names.insert("cp\(page)") }
        return names
    }()

    /// Throws when the prolog holds a DOCTYPE with an internal subset (`<!DOCTYPE x [ … ]>`), or
    /// is in an encoding the check cannot read as the parser would.
    ///
    /// Exports never declare entities. Where they are declared, swift-corelibs-foundation
    /// silently drops the text of internal entity references (and of the rest of the element after
    /// an external one), and libxml2 alone bounds expansion; refusing the DTD keeps both out.
    /// The whole prolog is read (comments and processing instructions of any length), in UTF-8,
    /// an ASCII-compatible 8-bit encoding or UTF-16 (by its byte order mark, or without one by
    /// its first characters); UTF-32, EBCDIC and any other declared encoding are refused.
    static func rejectInternalSubset(url: URL) throws {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return }
        defer { try? handle.close() }
        var units = try PrologUnits(handle: handle)
        var line = 1
        var lineStart = 0
        /// Moves one unit on, counting lines.
        func advance() throws {
            if try units.peek() == 0x0A {
                line += 1
                lineStart = units.position + 1
            }
            units.advance()
        }
        /// Moves past the next `terminator`; false when the file ends first.
        func skip(past terminator: String) throws -> Bool {
            let pattern = Array(terminator.utf16)
            while try units.peek() != nil {
                if try units.starts(with: pattern) {
                    for _ in pattern { try advance() }
                    return true
                }
                try advance()
            }
            return false
        }
        var first = true
        while let unit = try units.peek() {
            switch unit {
            case 0x0A, 0x20, 0x09, 0x0D:
                try advance()
            case 0x3C where try units.starts(with: Array("<?xml".utf16)) && first:
                let position = (line: line, column: units.position - lineStart + 1)
                var declaration: [UInt16] = []
                while let next = try units.peek(), declaration.count < 4096 {
                    declaration.append(next)
                    try advance()
                    if declaration.count >= 2, declaration.suffix(2) == [0x3F, 0x3E] { break }
                }
                // A declaration padded past what is read would hide its encoding from the check.
                guard declaration.suffix(2) == [0x3F, 0x3E] else {
                    throw ImportError(message: "the XML declaration does not end within 4096 characters",
                                      line: position.line, column: position.column)
                }
                if let encoding = Self.declaredEncoding(String(decoding: declaration, as: UTF16.self)),
                   !acceptedEncodings.contains(encoding.lowercased()) {
                    throw ImportError(message: "the encoding '\(encoding)' is not accepted in an export (use UTF-8 or UTF-16)",
                                      line: position.line, column: position.column)
                }
            case 0x3C where try units.starts(with: Array("<?".utf16)):
                guard try skip(past: "?>") else { return }
            case 0x3C where try units.starts(with: Array("<!--".utf16)):
                guard try skip(past: "-->") else { return }
            case 0x3C where try units.starts(with: Array("<!DOCTYPE".utf16)):
                let position = (line: line, column: units.position - lineStart + 1)
                var quote: UInt16?
                while let byte = try units.peek() {
                    if let open = quote {
                        if byte == open { quote = nil }
                    } else if byte == 0x22 || byte == 0x27 {
                        quote = byte
                    } else if byte == 0x5B {
                        throw ImportError(
                            message: "DOCTYPE with an internal subset (entity declarations) is not accepted in an export",
                            line: position.line, column: position.column)
                    } else if byte == 0x3E {
                        break
                    }
                    try advance()
                }
                try advance()
            default:
                // The root element, or something the parser will report.
                return
            }
            first = false
        }
    }

    /// The `encoding` of an XML declaration, if it names one.
    static func declaredEncoding(_ declaration: String) -> String? {
        guard let range = declaration.range(of: #"encoding\s*=\s*["']([^"']*)["']"#, options: .regularExpression) else { return nil }
        let match = declaration[range]
        guard let open = match.firstIndex(where: { $0 == "\"" || $0 == "'" }) else { return nil }
        return String(match[match.index(after: open)...].dropLast())
    }

    /// The prolog of a file as UTF-16 code units (8-bit encodings: one unit a byte, which is all
    /// the ASCII syntax needs), read a chunk at a time so memory stays bounded.
    struct PrologUnits {
        /// How the file's bytes make units: one a byte, or UTF-16 in either byte order.
        enum Form { case bytes, utf16LE, utf16BE }
        let handle: FileHandle
        let form: Form
        private var buffer: [UInt8] = []
        private var offset = 0
        private var ended = false
        /// Units consumed so far.
        private(set) var position = 0

        init(handle: FileHandle) throws {
            self.handle = handle
            let head = [UInt8]((try? handle.read(upToCount: 4)) ?? Data())
            let starts = { (prefix: [UInt8]) in head.starts(with: prefix) }
            if starts([0x00, 0x00, 0xFE, 0xFF]) || starts([0xFF, 0xFE, 0x00, 0x00]) || starts([0x00, 0x00, 0x00, 0x3C]) || starts([0x3C, 0x00, 0x00, 0x00]) {
                throw ImportError(message: "UTF-32 is not accepted in an export (use UTF-8 or UTF-16)", line: 1, column: 1)
            }
            if starts([0x4C, 0x6F, 0xA7, 0x94]) {
                throw ImportError(message: "EBCDIC is not accepted in an export (use UTF-8 or UTF-16)", line: 1, column: 1)
            }
            if starts([0xFE, 0xFF]) {
                form = .utf16BE
                buffer = Array(head.dropFirst(2))
            } else if starts([0xFF, 0xFE]) {
                form = .utf16LE
                buffer = Array(head.dropFirst(2))
            } else if starts([0x00, 0x3C, 0x00, 0x3F]) {
                form = .utf16BE
                buffer = head
            } else if starts([0x3C, 0x00, 0x3F, 0x00]) {
                form = .utf16LE
                buffer = head
            } else {
                form = .bytes
                buffer = starts([0xEF, 0xBB, 0xBF]) ? Array(head.dropFirst(3)) : head
            }
        }

        private var width: Int { form == .bytes ? 1 : 2 }

        /// Reads more of the file until `count` bytes are buffered past the offset, or the file ends.
        private mutating func fill(_ count: Int) throws {
            while buffer.count - offset < count, !ended {
                if offset > 0 {
                    buffer.removeFirst(offset)
                    offset = 0
                }
                let chunk = try handle.read(upToCount: ImportXMLDriver.prologScanBytes) ?? Data()
                if chunk.isEmpty { ended = true } else { buffer += chunk }
            }
        }

        /// The unit `ahead` units on; nil past the end of the file.
        mutating func peek(_ ahead: Int = 0) throws -> UInt16? {
            try fill((ahead + 1) * width)
            let start = offset + ahead * width
            guard start + width <= buffer.count else { return nil }
            switch form {
            case .bytes: return UInt16(buffer[start])
            case .utf16LE: return UInt16(buffer[start]) | UInt16(buffer[start + 1]) << 8
            case .utf16BE: return UInt16(buffer[start]) << 8 | UInt16(buffer[start + 1])
            }
        }

        /// Whether the units from here are `pattern`.
        mutating func starts(with pattern: [UInt16]) throws -> Bool {
            for (index, unit) in pattern.enumerated() where try peek(index) != unit { return false }
            return true
        }

        /// Consumes one unit.
        mutating func advance() {
            offset += width
            position += 1
        }
    }

    private func finish(_ parser: XMLParser) throws {
        if let failure { throw failure }
        let position = (line: max(parser.lineNumber, 1), column: max(parser.columnNumber, 1))
        if !sawRoot {
            throw ImportError(message: "malformed XML: no root element (is the file empty?)",
                              line: position.line, column: position.column)
        }
        if !rootClosed {
            throw ImportError(message: "malformed XML: unexpected end of file\(unclosedSuffix)",
                              line: position.line, column: position.column)
        }
    }

    private var unclosedSuffix: String {
        openElements.last.map { " (<\($0)> is not closed)" } ?? ""
    }

    /// Whether to handle an event; once something failed, stops the parser instead.
    private func proceed(_ parser: XMLParser) -> Bool {
        guard failure != nil else { return true }
        if !stopped {
            stopped = true
            parser.abortParsing()
        }
        return false
    }

    private func fail(_ error: any Error, _ parser: XMLParser) {
        if failure == nil { failure = error }
        _ = proceed(parser)
    }

    func parser(_ parser: XMLParser, didStartMappingPrefix prefix: String, toURI namespaceURI: String) {
        prefixes[prefix, default: []].append(namespaceURI)
    }

    func parser(_ parser: XMLParser, didEndMappingPrefix prefix: String) {
        _ = prefixes[prefix]?.popLast()
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String]) {
        guard proceed(parser) else { return }
        openElements.append(qName ?? elementName)
        sawRoot = true
        let name = ImportElementName(local: elementName, namespace: namespaceURI ?? "")
        let attributes = ImportAttributes(attributeDict, prefixes: prefixes)
        let position = ImportPosition(line: parser.lineNumber, column: parser.columnNumber)
        do {
            if try builder.didStart(name, depth: openElements.count, attributes: attributes, at: position),
               capture == nil {
                capture = ImportTextCapture()
                captureDepth = openElements.count
            }
        } catch {
            fail(error, parser)
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?) {
        guard proceed(parser) else { return }
        var text: String?
        if captureDepth == openElements.count, let captured = capture {
            text = captured.finish()
            capture = nil
        }
        let name = ImportElementName(local: elementName, namespace: namespaceURI ?? "")
        do {
            try builder.didEnd(name, depth: openElements.count, text: text)
        } catch {
            fail(error, parser)
        }
        _ = openElements.popLast()
        if openElements.isEmpty { rootClosed = true }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard proceed(parser), capture != nil else { return }
        capture?.append(text: string)
        checkCaptureSize(parser)
    }

    func parser(_ parser: XMLParser, foundIgnorableWhitespace whitespaceString: String) {
        guard proceed(parser), capture != nil else { return }
        capture?.append(text: whitespaceString)
        checkCaptureSize(parser)
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard proceed(parser), capture != nil else { return }
        capture?.append(cdata: CDATABlock)
        checkCaptureSize(parser)
    }

    private func checkCaptureSize(_ parser: XMLParser) {
        guard let size = capture?.bytes.count, size > Self.maxTextBytes else { return }
        let element = openElements.count >= captureDepth && captureDepth > 0
            ? openElements[captureDepth - 1] : "?"
        capture = nil
        fail(ImportError(message: "the text of <\(element)> exceeds \(Self.maxTextBytes >> 20) MiB",
                         line: parser.lineNumber, column: parser.columnNumber), parser)
    }

    func parser(_ parser: XMLParser, resolveExternalEntityName name: String, systemID: String?) -> Data? {
        nil
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        let code = (parseError as NSError).code
        // libxml2 reports warnings through the same channel; they do not make a file malformed.
        guard !Self.warningCodes.contains(code), failure == nil else { return }
        // Not stopping the parser here: this runs inside libxml2's error reporting, and the next
        // event stops it (see `proceed`).
        failure = ImportError(message: "malformed XML: \(describe(code))",
                              line: parser.lineNumber, column: parser.columnNumber)
    }

    func parser(_ parser: XMLParser, validationErrorOccurred validationError: any Error) {
        self.parser(parser, parseErrorOccurred: validationError)
    }

    /// libxml2 `XML_WAR_*` codes, plus its and Foundation's "stopped by the delegate" codes.
    /// `XML_WAR_UNDECLARED_ENTITY` (27) is left out on purpose: the parser drops the reference's
    /// text, and silently losing text is worse than refusing the file.
    private static let warningCodes: Set<Int> = [93, 97, 98, 99, 100, 102, 106, 107, 111, 512]

    /// A short description of a libxml2 `xmlParserErrors` code (the numbers `XMLParser` reports).
    private func describe(_ code: Int) -> String {
        switch code {
        case 3, 4: return "start tag expected, '<' not found"
        case 5, 77:
            return sawRoot && !rootClosed ? "unexpected end of file\(unclosedSuffix)"
                                          : "extra content after the root element"
        case 6, 7, 8: return "invalid character reference"
        case 9: return "character not allowed in XML"
        case 10...17: return "character or entity reference outside the root element"
        case 22, 23: return "malformed entity reference (expected '&name;')"
        case 26, 27: return "undeclared entity (only &amp; &lt; &gt; &quot; &apos; and character references are known)"
        case 28, 29, 30: return "entity reference to an unparsed, external or parameter entity"
        case 31, 32, 79: return "unsupported or invalid encoding"
        case 33, 34: return "unterminated quoted string"
        case 35: return "malformed namespace declaration"
        case 38: return "'<' not allowed in an attribute value"
        case 39: return "attribute value must be quoted"
        case 40: return "unterminated attribute value"
        case 41: return "attribute without a value"
        case 42, 203: return "duplicate attribute"
        case 45: return "unterminated comment"
        case 46, 47: return "malformed processing instruction"
        case 56, 57, 96, 108, 109: return "malformed XML declaration"
        case 61: return "malformed DOCTYPE"
        case 62: return "']]>' not allowed in text"
        case 63: return "unterminated CDATA section"
        case 64: return "XML declaration not at the start of the file"
        case 65: return "whitespace required"
        case 68: return "name expected"
        case 73: return "'>' expected"
        case 74: return "'</' expected"
        case 75: return "'=' expected after an attribute name"
        case 76: return "mismatched tag" + (openElements.last.map { " (expected </\($0)>)" } ?? "")
        case 80: return "'--' not allowed in a comment"
        case 81: return "bytes invalid in the document's encoding"
        case 85: return "not well balanced"
        case 86: return "extra content"
        case 89, 104: return "entity reference loop or excessive entity expansion"
        case 110: return "name too long"
        case 201: return "undeclared namespace prefix"
        case 200, 202, 204, 205: return "namespace error"
        default: return "XML error \(code)"
        }
    }
}

// MARK: - Field parsing shared by the readers

/// Small parsers for the scalar fields of exports.
enum ImportField {
    /// `text` without surrounding XML whitespace (space, tab, CR, LF), or nil when nothing is left.
    static func scalar(_ text: String?) -> String? {
        // Not `trimmingCharacters(in:)`: on Linux it costs a third of the whole import.
        guard let text else { return nil }
        let bytes = text.utf8
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) }) else { return nil }
        if first == bytes.startIndex, bytes.index(after: last) == bytes.endIndex { return text }
        // Both ends are whole scalars: the bytes dropped are ASCII.
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    /// `true`/`false`/`1`/`0` (any case; absent or empty is false); nil when it is anything else.
    static func boolean(_ text: String?) -> Bool? {
        switch scalar(text)?.lowercased() {
        case nil, "false", "0": return false
        case "true", "1": return true
        default: return nil
        }
    }

    /// A non-negative count (absent or empty is 0); nil when it is anything else.
    static func count(_ text: String?) -> Int? {
        guard let value = scalar(text) else { return 0 }
        guard let number = Int(value), number >= 0 else { return nil }
        return number
    }

    /// Unix milliseconds for `YYYY-MM-DD[T| ]HH:MM[:SS[.fff]][Z|±HH[:]MM]`; no zone means UTC.
    /// Nil when the text is not such a date or names an impossible one.
    static func timestamp(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + digits)] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += digits
            return value
        }
        func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        guard let year = number(4), take(0x2D), let month = number(2), take(0x2D), let day = number(2),
              take(0x54) || take(0x20) || take(0x74),
              let hour = number(2), take(0x3A), let minute = number(2) else { return nil }
        var second = 0
        var millis = 0
        if take(0x3A) {
            guard let value = number(2) else { return nil }
            second = value
            if take(0x2E) || take(0x2C) {
                var scale = 100
                let start = index
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                    millis += Int(bytes[index] - 0x30) * scale
                    scale /= 10
                    index += 1
                }
                guard index > start else { return nil }
            }
        }
        var offsetMinutes = 0
        if take(0x5A) || take(0x7A) {
            // UTC.
        } else if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D {
            let sign = bytes[index] == 0x2D ? -1 : 1
            index += 1
            guard let hours = number(2) else { return nil }
            _ = take(0x3A)
            let minutes = index < bytes.count ? number(2) : 0
            guard let minutes, hours <= 23, minutes <= 59 else { return nil }
            offsetMinutes = sign * (hours * 60 + minutes)
        }
        guard index == bytes.count, (1...9999).contains(year), (1...12).contains(month),
              day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
            - Int64(offsetMinutes * 60)
        return seconds * 1000 + Int64(millis)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
