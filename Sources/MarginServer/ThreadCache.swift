import Comments
import Crypto
import NIOCore
import Synchronization

/// What a thread request asks for; its `key` names the cached answer.
struct ThreadQuery: Sendable, Hashable {
    var siteID: String?
    var uri: String
    var limit: Int?
    var after: Int64?

    var key: String { "\(siteID ?? "")\u{0}\(uri)\u{0}\(limit ?? 0)\u{0}\(after ?? 0)" }

    /// The same thread asked for whole (no `limit`, no `after`): the one entry a thread's
    /// readers share, and where its top-level count is learnt.
    var whole: ThreadQuery { ThreadQuery(siteID: siteID, uri: uri, limit: nil, after: nil) }

    /// Whether this asks for a page rather than the whole thread.
    var isPage: Bool { limit != nil || after != nil }

    /// This query with a `limit` that cannot cut the thread (at or above its `topLevel` count)
    /// dropped: it answers exactly what no limit answers, so it shares that entry.
    func normalized(topLevel: Int?) -> ThreadQuery {
        guard let limit, let topLevel, limit >= topLevel else { return self }
        return ThreadQuery(siteID: siteID, uri: uri, limit: nil, after: after)
    }
}

/// Encoded thread responses, reused until the thread's version in the database changes. Keyed
/// by version, so writes from any process (the CLI, another node) invalidate it without a signal.
///
/// Each entry also remembers the store's change stamp when it was last known current: while the
/// stamp is unchanged, nothing was written anywhere, and the entry is served without asking the
/// database at all.
///
/// Full, it evicts the least recently used entry (never everything at once), and a thread keeps
/// at most `pagesPerThread` page entries (`limit`/`after` variants) beside its whole answer, so
/// a client asking for endless distinct pages churns only those and cannot push out the threads
/// others read. A `limit` at or above a thread's top-level count shares the whole answer's entry.
final class ThreadCache: Sendable {
    /// One encoded response and its validator.
    struct Entry: Sendable {
        let version: Int64
        /// The request it answers.
        let query: ThreadQuery
        /// The thread it shows; nil while the thread does not exist.
        let threadID: Int64?
        /// The site's avatar setting it was encoded with: changing it changes no thread version.
        let avatars: AvatarSource
        /// Shared, never copied per response.
        let body: ByteBuffer
        let etag: String
        /// `body` gzipped, made on the first request that accepts gzip (`gzipped(_:)`).
        var gzip: ByteBuffer?
        /// The bytes the cache holds for this entry.
        var heldBytes: Int { body.readableBytes + (gzip?.readableBytes ?? 0) }
        /// The strong ETag of the gzipped body: another representation, another tag.
        var gzipETag: String { String(etag.dropLast()) + "-gzip\"" }
        var stamp: Int64?
        /// Where the store's history stood when the entry was last known current.
        var mark: ChangeMark?
        /// Top-level entries of the whole thread when encoded (nil when not known).
        var topLevel: Int? = nil
        /// When it was last stored or served, in `Held.tick`s: the least recent goes first.
        var used: UInt64 = 0
    }

    /// The entries by key, and the bytes of their bodies.
    private struct Held {
        var entries: [String: Entry] = [:]
        var bytes = 0
        /// Counts uses, for `Entry.used`.
        var tick: UInt64 = 0

        /// Marks the entry at `key` as used now.
        mutating func touch(_ key: String) {
            tick += 1
            entries[key]?.used = tick
        }

        /// Removes the entry at `key`, freeing its bytes.
        mutating func remove(_ key: String) {
            if let removed = entries.removeValue(forKey: key) { bytes -= removed.heldBytes }
        }

        /// The least recently used key among the entries `included` accepts, and how many it accepted.
        func leastRecent(where included: (Entry) -> Bool) -> (key: String?, count: Int) {
            var oldest: (key: String, used: UInt64)?
            var count = 0
            for (key, entry) in entries where included(entry) {
                count += 1
                if oldest == nil || entry.used < oldest!.used { oldest = (key, entry.used) }
            }
            return (oldest?.key, count)
        }
    }

    /// Page entries (`limit`/`after` variants) kept per thread beside its whole answer.
    static let pagesPerThread = 8

    private let held = Mutex(Held())
    private let capacity: Int
    private let byteBudget: Int
    /// Loads running now, by key and the change stamp they started at.
    private let loading = Mutex<[String: Task<Entry, any Error>]>([:])
    /// The loads `loadOnce` ran: the misses that did not join a load already running.
    private let loads = Atomic<Int>(0)

    /// How many times this cache had to load an answer (tests read it: misses that share a load count once).
    var misses: Int { loads.load(ordering: .relaxed) }

    /// Tests only: told of every cache made while bound, so a test can read `misses` of the one
    /// inside a real server.
    @TaskLocal static var made: (@Sendable (ThreadCache) -> Void)?

    /// Runs `load` for `key`, or waits for the one already running for the same key that
    /// started at the same change stamp (a load started before a later write is never joined,
    /// so a reader still sees their own write). Without a stamp every caller loads alone.
    func loadOnce(_ key: String, stamp: Int64?, _ load: @escaping @Sendable () async throws -> Entry) async throws -> Entry {
        guard let stamp else {
            loads.add(1, ordering: .relaxed)
            return try await load()
        }
        let flight = "\(key)\u{0}\(stamp)"
        let (task, started) = loading.withLock { loading -> (Task<Entry, any Error>, Bool) in
            if let running = loading[flight] { return (running, false) }
            let task = Task { try await load() }
            loading[flight] = task
            loads.add(1, ordering: .relaxed)
            return (task, true)
        }
        defer { if started { _ = loading.withLock { $0.removeValue(forKey: flight) } } }
        return try await task.value
    }

    /// At most `capacity` threads and `byteBudget` bytes of encoded responses are kept.
    init(capacity: Int = 4096, byteBudget: Int = 12 << 20) {
        self.capacity = capacity
        self.byteBudget = byteBudget
        Self.made?(self)
    }

    /// The entry for `key` if nothing in the store changed since it was last known current.
    func fresh(_ key: String, stamp: Int64?) -> Entry? {
        guard let stamp else { return nil }
        return held.withLock { held in
            guard let entry = held.entries[key], entry.stamp == stamp else { return nil }
            held.touch(key)
            return entry
        }
    }

    /// `query` with a `limit` that cannot cut its thread dropped, judged by the thread's whole
    /// answer if that is cached and `current` (so a thread that grew since is not misjudged).
    func normalized(_ query: ThreadQuery, current: (Entry) -> Bool) -> ThreadQuery {
        guard query.limit != nil else { return query }
        let whole = held.withLock { $0.entries[query.whole.key] }
        guard let whole, current(whole) else { return query }
        return query.normalized(topLevel: whole.topLevel)
    }

    /// The entry for `key` if the store can tell that its thread is unchanged since it was last
    /// known current (other threads were written meanwhile); now known current at `stamp`.
    func unchanged(_ key: String, stamp: Int64?, store: any CommentStore) -> Entry? {
        guard let stamp, let candidate = held.withLock({ $0.entries[key] }),
              let threadID = candidate.threadID, let mark = candidate.mark,
              let now = store.changeTracking?.markIfUnchanged(threadID: threadID, since: mark, at: stamp)
        else { return nil }
        return held.withLock { held in
            // Kept only if nobody replaced it meanwhile.
            guard var entry = held.entries[key], entry.etag == candidate.etag, entry.mark == mark else { return candidate }
            entry.stamp = stamp
            entry.mark = now
            held.entries[key] = entry
            held.touch(key)
            return entry
        }
    }

    /// The entry for `key` if its thread is still at `version` and its site's avatar setting
    /// unchanged, now known current at `stamp` and `mark`.
    func lookup(_ key: String, version: Int64, avatars: AvatarSource, stamp: Int64?, mark: ChangeMark?) -> Entry? {
        held.withLock { held in
            guard var entry = held.entries[key], entry.version == version, entry.avatars == avatars else { return nil }
            entry.stamp = stamp
            entry.mark = mark
            held.entries[key] = entry
            held.touch(key)
            return entry
        }
    }

    /// The gzipped body of `entry`, compressed once: kept with the entry while it is the one
    /// cached for its query, and counted against the byte budget.
    func gzipped(_ entry: Entry) -> ByteBuffer? {
        if let gzip = entry.gzip { return gzip }
        guard let compressed = entry.body.withUnsafeReadableBytes({ Gzip.compress($0) }) else { return nil }
        let gzip = ByteBuffer(bytes: compressed)
        let key = entry.query.key
        held.withLock { held in
            guard var current = held.entries[key], current.etag == entry.etag, current.gzip == nil,
                  held.bytes + compressed.count <= byteBudget
            else { return }
            current.gzip = gzip
            held.entries[key] = current
            held.bytes += compressed.count
        }
        return gzip
    }

    /// The cached requests that show thread `threadID`.
    func queries(ofThread threadID: Int64) -> [ThreadQuery] {
        held.withLock { held in held.entries.values.compactMap { $0.threadID == threadID ? $0.query : nil } }
    }

    /// Keeps the encoded answer to `query` (`topLevel`: the thread's top-level count, when
    /// known), evicting the least recently used entries it needs room for.
    func store(
        _ query: ThreadQuery, version: Int64, threadID: Int64?, avatars: AvatarSource, bytes: [UInt8], stamp: Int64?, mark: ChangeMark?,
        topLevel: Int? = nil
    ) -> Entry {
        let key = query.key
        let entry = Entry(
            version: version, query: query, threadID: threadID, avatars: avatars, body: ByteBuffer(bytes: bytes), etag: Self.etag(for: bytes),
            stamp: stamp, mark: mark, topLevel: topLevel)
        // A response bigger than the whole budget is served but not kept.
        guard bytes.count <= byteBudget else { return entry }
        held.withLock { held in
            // Bounded in count and bytes, by recency. (Rotating over 50,000 threads of a
            // 1M-comment database held 4,096 responses at once, a large part of 121 MB resident.)
            held.remove(key)
            if query.isPage {
                // A thread's pages make room among themselves first.
                let thread = query.whole
                while case let (oldest?, count) = held.leastRecent(where: { $0.query.isPage && $0.query.whole == thread }),
                      count >= Self.pagesPerThread {
                    held.remove(oldest)
                }
            }
            while !held.entries.isEmpty, held.entries.count >= capacity || held.bytes + bytes.count > byteBudget,
                  let oldest = held.leastRecent(where: { _ in true }).key {
                held.remove(oldest)
            }
            held.entries[key] = entry
            held.bytes += bytes.count
            held.touch(key)
        }
        return entry
    }

    /// The strong ETag of a response body: a hash of its bytes.
    static func etag(for bytes: [UInt8]) -> String {
        "\"" + Base64URL.encode(SHA256.hash(data: bytes).prefix(16)) + "\""
    }
}

/// Whether an `If-None-Match` header matches `etag` (weak comparison, lists and `*` allowed).
func ifNoneMatch(_ header: String?, matches etag: String) -> Bool {
    guard let header else { return false }
    return header.split(separator: ",").contains { candidate in
        var tag = candidate.trimmingCharacters(in: .whitespaces)
        if tag == "*" { return true }
        if tag.hasPrefix("W/") { tag.removeFirst(2) }
        return tag == etag
    }
}

import Foundation
