import Foundation

/// Streams records from a reader into the store in ONE transaction: a malformed file leaves the
/// database exactly as it was. Threads merge by normalised (and remapped) path, exact duplicate
/// posts are dropped, parents may come after their children, deleted posts with replies stay as
/// tombstones, and every comment remembers its origin so running the same import again adds nothing.
public struct Importer: Sendable {
    public let store: SQLiteStore
    public let clock: any MarginClock

    public init(store: SQLiteStore, clock: any MarginClock = SystemClock()) {
        self.store = store
        self.clock = clock
    }

    /// Options of one import.
    public struct Options: Sendable {
        public var siteID: String
        /// The file's format, which names each comment's origin (`disqus:123`); a record format.
        public var source: ImportFormat
        public var rules: RemapRules
        public var dryRun: Bool
        public var skipInvalid: Bool
        /// The site to create, in the import's own transaction, when it is the one imported into
        /// and the database holds no site at all (the embedded default, before a server ever
        /// ran); a dry run or a refused file leaves no site behind.
        public var seedSite: Site?

        public init(siteID: String, source: ImportFormat, rules: RemapRules = RemapRules(), dryRun: Bool = false, skipInvalid: Bool = false,
                    seedSite: Site? = nil) {
            self.siteID = siteID
            self.source = source
            self.rules = rules
            self.dryRun = dryRun
            self.skipInvalid = skipInvalid
            self.seedSite = seedSite
        }
    }

    /// Runs `produce`, which feeds events to the handler it is given (a reader's `read`), inside
    /// one write transaction. `progress` is called now and then with the number of posts read.
    ///
    /// The reader parses and sanitises on its own thread while this one writes. When the import
    /// is at least as large as what the site already stores (`expectedPosts`, or always into an
    /// empty table) the secondary indexes are rebuilt once at the end instead of row by row, and,
    /// when nothing else has the file open, the data is written once with a rollback journal
    /// instead of twice through the WAL (see `BulkJournal`).
    public func run(
        _ options: Options,
        expectedPosts: Int = 0,
        progress: (@Sendable (Int) -> Void)? = nil,
        produce: @escaping @Sendable (_ skipInvalid: Bool, _ handle: (ImportEvent) throws -> Void) throws -> Void
    ) async throws -> ImportSummary {
        let started = Date()
        var summary = try await SQLiteImportSession.run(
            in: store, options, now: clock.nowMillis(), expectedPosts: expectedPosts, progress: progress, produce: produce)
        summary.seconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
        summary.dryRun = options.dryRun
        return summary
    }

    /// Imports the file at `url`, read with the reader of `options.source`.
    public func run(_ options: Options, file url: URL, progress: (@Sendable (Int) -> Void)? = nil) async throws -> ImportSummary {
        let source = options.source
        // About a kilobyte per post in real exports; only decides whether to rebuild indexes.
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        return try await run(options, expectedPosts: size / 1000, progress: progress) { skipInvalid, handle in
            try source.read(url, skipInvalid: skipInvalid, handle)
        }
    }
}

extension Importer.Options {
    /// The thread's page path: from its link, unless that points at disqus.com or is empty,
    /// then from an identifier that looks like a path or URL.
    func path(for thread: ImportedThread) throws -> String? {
        var candidates: [String] = []
        if let link = thread.link?.trimmingWhiteSpace(), !link.isEmpty,
           !(URLHost.of(link)?.hasSuffix("disqus.com") ?? false) {
            candidates.append(link)
        }
        candidates += thread.identifiers.filter { $0.hasPrefix("/") || $0.hasPrefix("http://") || $0.hasPrefix("https://") }
        if candidates.isEmpty, source == .wordpress, Int(thread.key) != nil {
            // WordPress's own address for a post when the export gives no permalink.
            candidates.append("/?p=\(thread.key)")
        }
        guard let first = candidates.first, var path = ThreadURI.normalize(first) else { return nil }
        // A site root with a query (`/?p=198`, WordPress before pretty links) names a post, not the
        // home page: keep the query, or every such thread would collapse into `/`.
        if path == "/", let query = first.split(separator: "?", maxSplits: 1).dropFirst().first?.split(separator: "#").first, !query.isEmpty {
            path = "/?" + query
        }
        return try rules.apply(path)
    }
}
