import Comments
import Crypto
import Synchronization

/// Encoded thread responses, reused until the thread's version in the database changes. Keyed
/// by version, so writes from any process (the CLI, another node) invalidate it without a signal.
final class ThreadCache: Sendable {
    /// One encoded response and its validator.
    struct Entry: Sendable {
        let version: Int64
        let bytes: [UInt8]
        let etag: String
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let capacity: Int

    init(capacity: Int = 4096) { self.capacity = capacity }

    func lookup(_ key: String, version: Int64) -> Entry? {
        entries.withLock { entries in
            guard let entry = entries[key], entry.version == version else { return nil }
            return entry
        }
    }

    func store(_ key: String, version: Int64, bytes: [UInt8]) -> Entry {
        let entry = Entry(version: version, bytes: bytes, etag: Self.etag(for: bytes))
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
