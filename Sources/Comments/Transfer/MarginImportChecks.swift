import Foundation
import SafeHTML

/// What a Margin import checks in each comment of a file it does not trust.
public enum MarginImportChecks {
    /// Stored markup for a comment: `html` unchanged when it is exactly what Margin itself would
    /// store (the sanitiser's own output, which sanitising leaves as it is, or `Markdown.render`
    /// of the comment's `body`), else `html` sanitised. Nothing reaches the database that did not
    /// come out of the sanitiser or the renderer.
    public static func html(_ html: String, body: String) -> String {
        let sanitized = HTMLSanitizer.sanitize(html)
        if sanitized == html { return html }
        // Markdown adds attributes the sanitiser drops (`class` on code, `start`, `title`).
        if Markdown.render(body) == html { return html }
        return sanitized
    }

    /// The edit key hash kept for an imported comment: only one whose edit window (by the
    /// importing server's `edit_window`) has already closed keeps its hash, so a file can never
    /// hand anyone a working edit token; a comment still inside its window loses it.
    public static func editKeyHash(_ hash: String?, createdAt: Int64, now: Int64, editWindowMillis: Int64) -> String? {
        guard let hash, createdAt + editWindowMillis < now else { return nil }
        return hash
    }

    /// Slack allowed for a clock a little ahead of this one: one minute.
    public static let clockSkewMillis: Int64 = 60_000
}
