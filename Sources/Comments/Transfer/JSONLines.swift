import Foundation

/// Splits a file into lines without reading it whole. A line longer than `maxLineBytes` is
/// refused by number as soon as it passes the limit, so a file with no newline costs time linear
/// in the limit and memory bounded by it, never by the file.
enum JSONLines {
    /// The longest line read: 16 MiB (a comment's text is at most 10,000 characters).
    static let maxLineBytes = 16 << 20

    /// Calls `handle` with each line of `url` (without its newline) and its 1-based number.
    static func read(url: URL, maxLineBytes: Int = maxLineBytes, _ handle: ([UInt8], Int) throws -> Void) throws {
        guard let file = try? FileHandle(forReadingFrom: url) else {
            throw ImportError(message: "cannot read \(url.path)", line: 0, column: 0)
        }
        defer { try? file.close() }
        var pending: [UInt8] = []
        var number = 0
        func tooLong() -> ImportError {
            ImportError(message: "line \(number + 1) is longer than \(maxLineBytes >> 20) MiB (\(maxLineBytes) bytes); a Margin export has one record a line",
                        line: number + 1, column: 1)
        }
        while true {
            let chunk = try file.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            try chunk.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let bytes = raw.bindMemory(to: UInt8.self)
                guard let base = bytes.baseAddress else { return }
                var start = 0
                while start < bytes.count {
                    // memchr: each byte is looked at once, at memory speed.
                    guard let hit = memchr(base + start, 0x0A, bytes.count - start) else {
                        pending.append(contentsOf: bytes[start...])
                        if pending.count > maxLineBytes { throw tooLong() }
                        break
                    }
                    let end = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
                    pending.append(contentsOf: bytes[start..<end])
                    if pending.count > maxLineBytes { throw tooLong() }
                    number += 1
                    try handle(pending, number)
                    pending.removeAll(keepingCapacity: true)
                    start = end + 1
                }
            }
        }
        if !pending.isEmpty {
            number += 1
            try handle(pending, number)
        }
    }
}
