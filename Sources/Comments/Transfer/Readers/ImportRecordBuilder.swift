import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

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
