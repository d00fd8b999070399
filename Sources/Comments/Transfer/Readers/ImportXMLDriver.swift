import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

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
