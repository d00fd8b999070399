import Foundation

/// Streams the threads and posts of a Disqus XML export ("Export comments").
///
/// Elements are matched by local name in the `http://disqus.com` namespace (or in no namespace,
/// for exports that omit the declaration); ids are the `id` attribute in
/// `http://disqus.com/disqus-internals` (or a plain `id`). The file is read as a stream, so
/// memory stays flat whatever its size.
///
/// A post's status is `deleted` if `isDeleted`, else `spam` if `isSpam`, else `approved` (Disqus
/// exports have no pending comments). Its author name is `<name>`, else `<username>`; Disqus
/// exports carry no author URL. Parents may come after their replies; `parentKey` is reported
/// as found.
public struct DisqusReader: Sendable {
    /// The export file.
    public let url: URL

    /// Creates a reader for the export at `url` (a file URL).
    public init(url: URL) {
        self.url = url
    }

    /// Calls `handle` for every thread and post in file order; throws `ImportError` (with the
    /// parser's line and column) on malformed XML, and rethrows whatever `handle` throws.
    ///
    /// With `skipInvalid`, records that are structurally invalid (a thread or post without a
    /// `dsq:id`, a post without a thread, an unparsable date, boolean or count) are reported as
    /// `.skipped` instead of throwing; malformed XML still throws.
    public func read(skipInvalid: Bool, _ handle: (ImportEvent) throws -> Void) throws {
        try withoutActuallyEscaping(handle) { handle in
            let builder = DisqusRecordBuilder(skipInvalid: skipInvalid, emit: handle)
            try ImportXMLDriver.run(url: url, builder: builder)
        }
    }
}

/// Turns the elements of a Disqus export into `ImportEvent`s, one record at a time.
private final class DisqusRecordBuilder: ImportRecordBuilder {
    static let namespace = "http://disqus.com"
    static let internals = "http://disqus.com/disqus-internals"

    /// A text field of a thread or post (`author*` are inside a post's `<author>`).
    private enum Field: Int, CaseIterable {
        case link, title, createdAt, isClosed, isDeleted, isSpam, message, ipAddress, likes, dislikes
        case authorName, authorEmail, authorUsername
    }

    /// The fields of the record being read, as text; checked when the record ends.
    private struct Draft {
        var isPost: Bool
        var key: String?
        var start: ImportPosition
        var fields = [String?](repeating: nil, count: Field.allCases.count)
        var threadKey: String?
        var parentKey: String?
        var identifiers: [String] = []

        subscript(field: Field) -> String? {
            get { fields[field.rawValue] }
            set { fields[field.rawValue] = newValue }
        }
    }

    private let skipInvalid: Bool
    private let emit: (ImportEvent) throws -> Void
    private var draft: Draft?
    private var inAuthor = false

    init(skipInvalid: Bool, emit: @escaping (ImportEvent) throws -> Void) {
        self.skipInvalid = skipInvalid
        self.emit = emit
    }

    /// The field a child of `<thread>` holds; `<id>` is collected separately.
    private static func threadField(_ local: String) -> Field? {
        switch local {
        case "link": .link
        case "title": .title
        case "createdAt": .createdAt
        case "isClosed": .isClosed
        case "isDeleted": .isDeleted
        default: nil
        }
    }

    /// The field a child of `<post>` holds.
    private static func postField(_ local: String) -> Field? {
        switch local {
        case "message": .message
        case "createdAt": .createdAt
        case "isDeleted": .isDeleted
        case "isSpam": .isSpam
        case "ipAddress": .ipAddress
        case "likes": .likes
        case "dislikes": .dislikes
        default: nil
        }
    }

    /// The field a child of a post's `<author>` holds.
    private static func authorField(_ local: String) -> Field? {
        switch local {
        case "name": .authorName
        case "email": .authorEmail
        case "username": .authorUsername
        default: nil
        }
    }

    func didStart(_ name: ImportElementName, depth: Int, attributes: ImportAttributes,
                  at position: ImportPosition) throws -> Bool {
        if depth == 1 {
            guard name.local == "disqus", name.namespace == Self.namespace || name.namespace.isEmpty else {
                throw ImportError(message: "not a Disqus export: the root element is <\(name.local)>",
                                  line: position.line, column: position.column)
            }
            return false
        }
        // Elements of other vocabularies (and whatever they contain) are not ours.
        guard name.namespace == Self.namespace || name.namespace.isEmpty else { return false }
        switch depth {
        case 2:
            inAuthor = false
            guard name.local == "thread" || name.local == "post" else {
                draft = nil
                return false
            }
            draft = Draft(isPost: name.local == "post", key: Self.id(attributes), start: position)
            return false
        case 3:
            guard let current = draft else { return false }
            if current.isPost {
                switch name.local {
                case "thread": draft?.threadKey = Self.id(attributes)
                case "parent": draft?.parentKey = Self.id(attributes)
                case "author": inAuthor = true
                default: return Self.postField(name.local) != nil
                }
                return false
            }
            return name.local == "id" || Self.threadField(name.local) != nil
        case 4:
            return draft?.isPost == true && inAuthor && Self.authorField(name.local) != nil
        default:
            return false
        }
    }

    func didEnd(_ name: ImportElementName, depth: Int, text: String?) throws {
        switch depth {
        case 2:
            if let finished = draft { try finish(finished) }
            draft = nil
        case 3:
            if name.local == "author" { inAuthor = false }
            guard let text, draft != nil else { return }
            if draft?.isPost == true {
                if let field = Self.postField(name.local) { draft?[field] = text }
            } else if name.local == "id" {
                // Keep every non-empty <id> of a thread, in order.
                if let id = ImportField.scalar(text) { draft?.identifiers.append(id) }
            } else if let field = Self.threadField(name.local) {
                draft?[field] = text
            }
        case 4:
            if let text, let field = Self.authorField(name.local) { draft?[field] = text }
        default:
            break
        }
    }

    /// The `dsq:id` of an element, by namespace; a plain `id` when the export has no prefix.
    private static func id(_ attributes: ImportAttributes) -> String? {
        ImportField.scalar(attributes.value("id", namespace: internals) ?? attributes.value("id", namespace: ""))
    }

    /// A record that cannot be imported, and why.
    private struct Invalid: Error {
        var reason: String
    }

    /// The problems found while checking one record.
    private struct Problems {
        let record: String
        var found: [String] = []

        /// Throws `Invalid` listing every problem, if there are any.
        func check() throws {
            guard !found.isEmpty else { return }
            throw Invalid(reason: "\(record): " + found.joined(separator: "; "))
        }

        mutating func date(_ text: String?) -> Int64? {
            guard let value = ImportField.scalar(text) else { return nil }
            guard let millis = ImportField.timestamp(value) else {
                found.append("unparsable createdAt \"\(value)\"")
                return nil
            }
            return millis
        }

        mutating func flag(_ text: String?, _ field: String) -> Bool {
            guard let value = ImportField.boolean(text) else {
                found.append("\(field) is not a boolean: \"\(ImportField.scalar(text) ?? "")\"")
                return false
            }
            return value
        }

        mutating func count(_ text: String?, _ field: String) -> Int {
            guard let value = ImportField.count(text) else {
                found.append("\(field) is not a count: \"\(ImportField.scalar(text) ?? "")\"")
                return 0
            }
            return value
        }
    }

    private func finish(_ draft: Draft) throws {
        do {
            try emit(draft.isPost ? .post(try post(draft)) : .thread(try thread(draft)))
        } catch let invalid as Invalid {
            if skipInvalid {
                try emit(.skipped(reason: invalid.reason, line: draft.start.line))
            } else {
                throw ImportError(message: invalid.reason, line: draft.start.line, column: draft.start.column)
            }
        }
    }

    private func thread(_ draft: Draft) throws -> ImportedThread {
        guard let key = draft.key else { throw Invalid(reason: "thread without dsq:id") }
        var problems = Problems(record: "thread \(key)")
        let thread = ImportedThread(
            key: key,
            link: ImportField.scalar(draft[.link]),
            identifiers: draft.identifiers,
            title: ImportField.scalar(draft[.title]),
            createdAt: problems.date(draft[.createdAt]),
            isClosed: problems.flag(draft[.isClosed], "isClosed"),
            isDeleted: problems.flag(draft[.isDeleted], "isDeleted"))
        try problems.check()
        return thread
    }

    private func post(_ draft: Draft) throws -> ImportedPost {
        guard let key = draft.key else { throw Invalid(reason: "post without dsq:id") }
        var problems = Problems(record: "post \(key)")
        if draft.threadKey == nil { problems.found.append("no thread dsq:id") }
        let isDeleted = problems.flag(draft[.isDeleted], "isDeleted")
        let isSpam = problems.flag(draft[.isSpam], "isSpam")
        let post = ImportedPost(
            key: key,
            threadKey: draft.threadKey ?? "",
            parentKey: draft.parentKey,
            authorName: ImportField.scalar(draft[.authorName]) ?? ImportField.scalar(draft[.authorUsername]),
            authorEmail: ImportField.scalar(draft[.authorEmail]),
            authorURL: nil,
            ip: ImportField.scalar(draft[.ipAddress]),
            html: draft[.message] ?? "",
            createdAt: problems.date(draft[.createdAt]),
            status: isDeleted ? .deleted : isSpam ? .spam : .approved,
            likes: problems.count(draft[.likes], "likes"),
            dislikes: problems.count(draft[.dislikes], "dislikes"))
        try problems.check()
        return post
    }
}
