import Crypto

/// The first 64 bits of a SHA-256 of a post's author, time and message: enough to tell a
/// million posts apart (a false match is about one in ten million) without keeping their text.
struct Digest: Hashable, Sendable {
    let value: UInt64

    /// The fingerprint of a post: who, when, what.
    static func of(author: String?, created: Int64, html: String) -> Digest {
        Digest("\(author ?? "")|\(created)|\(html)")
    }

    init(_ text: String) {
        value = SHA256.hash(data: Array(text.utf8)).withUnsafeBytes { bytes in
            bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }
    }
}

/// Fingerprint → the comment kept for it and whether it sits on a legacy address, packed in
/// one integer: a million posts cost about 32 MB here.
struct KeptPosts {
    private var entries: [UInt64: Int64] = [:]

    subscript(fingerprint: Digest) -> (id: Int64, legacy: Bool)? {
        get { entries[fingerprint.value].map { ($0 >> 1, $0 & 1 == 1) } }
        set { entries[fingerprint.value] = newValue.map { $0.id << 1 | ($0.legacy ? 1 : 0) } }
    }

    /// Makes room for `count` posts at once, instead of growing (and briefly doubling) as they come.
    mutating func reserve(_ count: Int) {
        entries.reserveCapacity(count)
    }
}
