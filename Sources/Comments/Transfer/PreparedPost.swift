import Foundation
import SafeHTML

/// A post with the work that needs no database already done: sanitised HTML, plain text, the
/// duplicate fingerprint, the anonymised IP, the trimmed author and the checked website.
struct PreparedPost: Sendable {
    var post: ImportedPost
    var html: String
    var body: String
    /// Nil when the post has no date of its own (the thread's date, known only in order, stands in).
    var fingerprint: Digest?
    var ip: String?
    var website: String?
    var author: String?
    var email: String?

    init(_ post: ImportedPost) {
        self.post = post
        let deleted = post.status == .deleted
        (html, body) = deleted ? ("", "") : HTMLSanitizer.sanitizeWithPlainText(post.html)
        fingerprint = post.createdAt.map { Digest.of(author: post.authorName, created: $0, html: post.html) }
        ip = deleted ? nil : post.ip.flatMap(IPAnonymizer.anonymize)
        website = deleted ? nil : Self.website(post.authorURL)
        author = deleted ? nil : Self.nonEmpty(post.authorName)
        email = deleted ? nil : Self.nonEmpty(post.authorEmail)
    }

    /// `text` trimmed, nil when nothing is left.
    static func nonEmpty(_ text: String?) -> String? {
        guard let text = text?.trimmingWhiteSpace(), !text.isEmpty else { return nil }
        return text
    }

    /// An author's website as the posting rules accept it, nil when they do not.
    static func website(_ url: String?) -> String? {
        guard let url = nonEmpty(url) else { return nil }
        return (try? FieldRules.website(url)) ?? nil
    }
}

/// One record for the database side of an import.
enum PreparedEvent: Sendable {
    case thread(ImportedThread)
    case post(PreparedPost)
    case skipped(reason: String)
}
