import Comments
import Crypto
import NIOCore
import Synchronization

/// Encoded thread responses, reused until the thread's version in the database changes. Keyed
/// by version, so writes from any process (the CLI, another node) invalidate it without a signal.
///
/// Each entry also remembers the store's change stamp when it was last known current: while the
/// stamp is unchanged, nothing was written anywhere, and the entry is served without asking the
/// database at all.
final class ThreadCache: Sendable {
    /// One encoded response and its validator.
    struct Entry: Sendable {
        let version: Int64
        /// The site's avatar setting it was encoded with: changing it changes no thread version.
        let avatars: AvatarSource
        /// Shared, never copied per response.
        let body: ByteBuffer
        let etag: String
        var stamp: Int64?
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let capacity: Int

    init(capacity: Int = 4096) { self.capacity = capacity }

    /// The entry for `key` if nothing in the store changed since it was last known current.
    func fresh(_ key: String, stamp: Int64?) -> Entry? {
        guard let stamp else { return nil }
        return entries.withLock { entries in
            guard let entry = entries[key], entry.stamp == stamp else { return nil }
            return entry
        }
    }

    /// The entry for `key` if its thread is still at `version` and its site's avatar setting
    /// unchanged, now known current at `stamp`.
    func lookup(_ key: String, version: Int64, avatars: AvatarSource, stamp: Int64?) -> Entry? {
        entries.withLock { entries in
            guard var entry = entries[key], entry.version == version, entry.avatars == avatars else { return nil }
            entry.stamp = stamp
            entries[key] = entry
            return entry
        }
    }

    func store(_ key: String, version: Int64, avatars: AvatarSource, bytes: [UInt8], stamp: Int64?) -> Entry {
        let entry = Entry(
            version: version, avatars: avatars, body: ByteBuffer(bytes: bytes), etag: Self.etag(for: bytes), stamp: stamp)
        entries.withLock { entries in
            // Crude but bounded: a full cache starts over rather than tracking recency.
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = entry
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
