import Foundation

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
