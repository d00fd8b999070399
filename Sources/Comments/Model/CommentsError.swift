/// Everything the Comments module can refuse; the server maps each case to HTTP in one place.
public enum CommentsError: Error, Equatable, Sendable {
    case siteNotFound(String)
    case siteExists(String)
    case siteHasComments(String, count: Int)
    case commentNotFound(Int64)
    case hookNotFound(Int64)
    /// A field failed validation; `field` names it for the client.
    case invalidField(field: String, message: String)
    case originNotAllowed(String)
    case invalidEditToken
    case editWindowClosed
    case threadLocked
    /// `restore` of a comment no person has decided on (the spam filter's holding is no decision).
    case nothingToRestore(Int64)
    /// The database could not be reached or written (disk full, read-only, locked).
    case storageUnavailable(String)
    /// A `postgres://` database URL that cannot be used as it is; says what is wrong.
    case invalidDatabaseURL(String)
    /// `margin migrate` cannot move this installation as asked; says why.
    case copyRefused(String)
}

extension CommentsError: CustomStringConvertible {
    /// A sentence for people (CLI output and JSON error messages).
    public var description: String {
        switch self {
        case .siteNotFound(let id): "No site with id '\(id)'."
        case .siteExists(let id): "A site with id '\(id)' already exists."
        case .siteHasComments(let id, let count):
            "Site '\(id)' has \(count) comment(s); pass --force to remove it with all its comments."
        case .commentNotFound(let id): "No comment with id \(id)."
        case .hookNotFound(let id): "No hook with id \(id)."
        case .invalidField(let field, let message): "\(field): \(message)"
        case .originNotAllowed(let origin): "Origin '\(origin)' is not allowed for this site."
        case .invalidEditToken: "The edit token is missing or does not match this comment."
        case .editWindowClosed: "The edit window for this comment has closed."
        case .threadLocked: "This thread is closed for new comments."
        case .nothingToRestore(let id): "Comment \(id) has no decision to undo."
        case .storageUnavailable(let why): "The comment store is unavailable: \(why)"
        case .invalidDatabaseURL(let why): "The database URL cannot be used: \(why)."
        case .copyRefused(let why): "The move failed: \(why)."
        }
    }
}

extension CommentsError {
    /// The reasons for `storageUnavailable` that are Margin's own fixed words about a local file
    /// (`SQLiteStore.mapped`): a client may read them. Any other reason may quote a host name,
    /// a database server's message or a path, and is only logged.
    public static let publicStorageReasons: Set<String> = [
        "the database file cannot be read (input/output error)",
        "the database cannot be written because the disk is full",
        "the database cannot be written because the file is read-only",
        "the database cannot be written (input/output error: the disk may be full or the file read-only)",
        "the database file cannot be opened for writing",
        "the database is busy",
    ]

    /// The one sentence a client gets for a storage failure whose reason is not public.
    public static let storageUnavailableSentence = "The comment store is unavailable; try again shortly."

    /// The sentence for clients (JSON error messages): `description`, except that a storage
    /// failure with a reason outside `publicStorageReasons` is `storageUnavailableSentence`.
    public var publicDescription: String {
        switch self {
        case .storageUnavailable(let why) where !Self.publicStorageReasons.contains(why): Self.storageUnavailableSentence
        case .invalidDatabaseURL: Self.storageUnavailableSentence
        default: description
        }
    }
}
