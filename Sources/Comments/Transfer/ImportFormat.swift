import Foundation

/// The formats `margin import` and the admin API read: three other systems' exports, read
/// record by record (`Importer`), and Margin's own export (`MarginImporter`). A comment brought
/// in from one of the other systems remembers its origin under this name (`disqus:123`).
public enum ImportFormat: String, Sendable, CaseIterable {
    /// A Disqus XML export.
    case disqus
    /// A WordPress WXR export.
    case wordpress
    /// An Isso database (its SQLite file).
    case isso
    /// Margin's own JSON Lines export.
    case margin

    /// The formats as a sentence lists them: "disqus, wordpress, isso or margin".
    public static var listed: String { spokenList(allCases.map(\.rawValue)) }

    /// Streams the file at `url` through this format's reader. Margin's own export is no stream
    /// of records: `MarginImporter` reads it.
    public func read(_ url: URL, skipInvalid: Bool, _ handle: (ImportEvent) throws -> Void) throws {
        switch self {
        case .disqus: try DisqusReader(url: url).read(skipInvalid: skipInvalid, handle)
        case .wordpress: try WXRReader(url: url).read(skipInvalid: skipInvalid, handle)
        case .isso: try IssoReader(path: url.path).read(skipInvalid: skipInvalid, handle)
        case .margin: throw ImportError(message: "a Margin export is read by MarginImporter, not as records", line: 0, column: 0)
        }
    }
}

/// Names joined as a sentence lists them: "a, b or c".
func spokenList(_ names: [String]) -> String {
    guard let last = names.last, names.count > 1 else { return names.first ?? "" }
    return names.dropLast().joined(separator: ", ") + " or " + last
}
