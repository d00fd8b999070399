/// The formats `margin export` writes.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// Margin's own JSON Lines: every stored field; exporting, importing into an empty database
    /// and exporting again gives the same bytes.
    case margin
    /// Disqus's XML export format, which other comment systems import.
    case disqus
    /// One row per comment (RFC 4180, header row), for spreadsheets.
    case csv

    /// The formats as a sentence lists them: "margin, disqus or csv".
    public static var listed: String { spokenList(allCases.map(\.rawValue)) }
}
