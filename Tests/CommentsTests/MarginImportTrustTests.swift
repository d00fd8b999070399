import Comments
import Foundation
import SafeHTML
import TestSupport
import Testing

/// A Margin import does not trust its file: markup goes through the sanitiser (what Margin itself
/// made comes back byte for byte), websites follow the posting rules, dates in the future and
/// over-long lines are refused by line, and a file cannot hand out working edit keys.
@Suite struct MarginImportTrustTests {
    /// A clock the test sets.
    final class SetClock: MarginClock, @unchecked Sendable {
        var now: Int64
        init(_ now: Int64) { self.now = now }
        func nowMillis() -> Int64 { now }
    }

    static let posted: Int64 = 1_700_000_000_000
    static let window: Int64 = 15 * 60 * 1000

    /// A scratch directory, removed by `body`'s end.
    func withDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let scratch = try Scratch()
        defer { scratch.remove() }
        return try await body(scratch.url)
    }

    /// A database with comments posted the way readers post them (markdown with a code language,
    /// a list start and a link title: markup the sanitiser alone would change); its Margin export.
    func postedExport(in directory: URL) async throws -> URL {
        let store = try SQLiteStore(path: directory.appendingPathComponent("source.sqlite").path)
        _ = try await store.addSiteIfNoneExist(Site.embeddedDefault(createdAt: Self.posted))
        let service = CommentService(store: store, clock: SetClock(Self.posted))
        let site = try await service.requireSite("default")
        for text in ["```swift\nlet x = 1 < 2\n```", "3. three\n4. four", #"[a link](https://a.example/ "its title") and *more*"#, "plain words"] {
            _ = try await service.post(PostInput(site: "default", uri: "/post/", website: "https://ada.example.org/", text: text),
                                       site: site, client: ClientInfo(ip: "192.0.2.1", userAgent: "test"))
        }
        return try await export(store, to: directory.appendingPathComponent("source.jsonl"))
    }

    func export(_ store: SQLiteStore, to url: URL) async throws -> URL {
        let bytes = LockedBytes()
        try await Exporter(store: store).export(format: .margin, siteID: nil) { bytes.append($0) }
        try Data(bytes.value).write(to: url)
        return url
    }

    /// Lines of a JSON Lines file as objects.
    func records(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// Writes `records` as a Margin file (the header first).
    func write(_ records: [[String: Any]], to url: URL) throws {
        var text = Exporter.marginHeader + "\n"
        for record in records.dropFirst() {
            text += String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self) + "\n"
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Imports `file` into a new database at `now`; the store, or the error.
    func importing(_ file: URL, in directory: URL, now: Int64) async throws -> (SQLiteStore, ImportError?) {
        let store = try SQLiteStore(path: directory.appendingPathComponent("\(UUID().uuidString).sqlite").path)
        do {
            _ = try await MarginImporter(store: store, editWindowMillis: Self.window, clock: SetClock(now)).run(url: file, dryRun: false)
            return (store, nil)
        } catch let error as ImportError {
            return (store, error)
        }
    }

    @Test func whatMarginRenderedComesBackByteForByte() async throws {
        try await withDirectory { directory in
            // Given an export of comments posted with markdown the sanitiser alone would change
            let first = try await postedExport(in: directory)
            let htmls = try records(first).filter { $0["type"] as? String == "comment" }.compactMap { $0["html"] as? String }
            #expect(htmls.count == 4)
            #expect(htmls.contains { HTMLSanitizer.sanitize($0) != $0 }, "the renderer's attributes are exercised")
            // When it is imported after the comments' edit window closed, and exported again
            let (store, error) = try await importing(first, in: directory, now: Self.posted + Self.window + 1000)
            #expect(error == nil)
            let second = try await export(store, to: directory.appendingPathComponent("second.jsonl"))
            // Then the two exports are the same bytes (markup, websites and edit key hashes kept)
            #expect(try Data(contentsOf: first) == Data(contentsOf: second))
        }
    }

    @Test func hostileMarkupIsSanitised() async throws {
        try await withDirectory { directory in
            // Given an export with one comment's html replaced by a script payload
            let source = try await postedExport(in: directory)
            var lines = try records(source)
            let index = try #require(lines.firstIndex { $0["type"] as? String == "comment" })
            lines[index]["html"] = "<img src=x onerror=alert(document.domain)><p>kept text</p><script>alert(1)</script>"
            let hostile = directory.appendingPathComponent("hostile.jsonl")
            try write(lines, to: hostile)
            // When it is imported
            let (store, error) = try await importing(hostile, in: directory, now: Self.posted + Self.window + 1000)
            #expect(error == nil)
            // Then what is stored is the sanitiser's output: no element, no attribute that can run script
            let id = try #require((lines[index]["id"] as? NSNumber)?.int64Value)
            let html = try #require(try await store.comment(id: id)).html
            #expect(html == "<p>kept text</p>")
            #expect(!html.contains("<img") && !html.contains("onerror") && !html.contains("<script"))
        }
    }

    @Test func editKeysAreKeptOnlyOnceTheirWindowHasClosed() async throws {
        try await withDirectory { directory in
            // Given an export of comments posted a minute ago (inside the edit window)
            let source = try await postedExport(in: directory)
            #expect(try records(source).filter { $0["type"] as? String == "comment" }.allSatisfy { $0["edit_key_hash"] is String })
            // When it is imported now
            let (store, error) = try await importing(source, in: directory, now: Self.posted + 60_000)
            #expect(error == nil)
            // Then no comment keeps an edit key hash: a file cannot grant a working edit token
            let again = try records(try await export(store, to: directory.appendingPathComponent("again.jsonl")))
            let kinds = again.map { $0["type"] as? String }
            let hashes = zip(kinds, again).filter { $0.0 == "comment" }.map { $0.1["edit_key_hash"] }
            #expect(hashes.count == 4)
            #expect(hashes.allSatisfy { $0 is NSNull })
        }
    }

    @Test func fieldsAreRefusedByLineAndName() async throws {
        try await withDirectory { directory in
            let source = try await postedExport(in: directory)
            let lines = try records(source)
            let index = try #require(lines.firstIndex { $0["type"] as? String == "comment" })
            let cases: [(String, Any, String)] = [
                ("created_at", NSNumber(value: Self.posted + 86_400_000), "field 'created_at' lies in the future"),
                ("edited_at", NSNumber(value: Self.posted + 86_400_000), "field 'edited_at' lies in the future"),
                ("website", "http://evil.example\\@good.example", "field 'website' must not contain backslashes"),
                ("website", "javascript:alert(1)", "field 'website' must start with http:// or https://"),
            ]
            for (field, value, message) in cases {
                // Given a comment with a bad field
                var changed = lines
                changed[index][field] = value
                let file = directory.appendingPathComponent("bad.jsonl")
                try write(changed, to: file)
                // When it is imported
                let (store, error) = try await importing(file, in: directory, now: Self.posted + 1000)
                // Then it is refused naming the line and the field, and nothing is written
                #expect(error?.line == index + 1, "\(field)")
                #expect(error?.message.contains(message) == true, "\(error?.message ?? "no error")")
                #expect(try await store.comment(id: 1) == nil)
            }
        }
    }

    @Test func anOverlongLineIsRefusedByNumber() async throws {
        try await withDirectory { directory in
            // Given a file whose second line is one byte over 16 MiB
            let file = directory.appendingPathComponent("long.jsonl")
            var bytes = Array((Exporter.marginHeader + "\n").utf8)
            bytes += [UInt8](repeating: UInt8(ascii: " "), count: (16 << 20) + 1)
            bytes += Array("\n{}\n".utf8)
            try Data(bytes).write(to: file)
            // When it is imported, then the error names line 2 and the limit
            let (_, error) = try await importing(file, in: directory, now: Self.posted)
            #expect(error?.line == 2)
            #expect(error?.message.contains("longer than 16 MiB") == true, "\(error?.message ?? "no error")")
        }
    }

    /// Run by `TimingTests` below, in the quiet pass.
    func aGibibyteWithoutANewlineIsRefusedQuickly() async throws {
        try await withDirectory { directory in
            // Given a sparse 1 GiB file: a header, then no newline at all
            let file = directory.appendingPathComponent("huge.jsonl")
            try Data((Exporter.marginHeader + "\n").utf8).write(to: file)
            let handle = try FileHandle(forWritingTo: file)
            try handle.truncate(atOffset: 1 << 30)
            try handle.close()
            let store = try SQLiteStore(path: directory.appendingPathComponent("margin.sqlite").path)
            // When it is imported
            let clock = ContinuousClock()
            let started = clock.now, before = IssoDefensiveOpenTests.peakMemory()
            let error = await #expect(throws: ImportError.self) {
                _ = try await MarginImporter(store: store, clock: SetClock(Self.posted)).run(url: file, dryRun: false)
            }
            // Then it is refused at the line limit, long before the end of the file: in time and
            // memory bounded by the 16 MiB limit, not by the 1 GiB file
            #expect(error?.line == 2)
            #expect(error?.message.contains("longer than 16 MiB") == true)
            #expect(clock.now - started < .seconds(20), "took \(clock.now - started)")
            #expect(IssoDefensiveOpenTests.peakMemory() - before < 256 << 20, "peak memory grew \((IssoDefensiveOpenTests.peakMemory() - before) >> 20) MiB")
        }
    }
}

/// Bytes gathered from a `@Sendable` callback.
final class LockedBytes: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    func append(_ more: [UInt8]) { lock.withLock { bytes += more } }
    var value: [UInt8] { lock.withLock { bytes } }
}

extension MarginImportTrustTests {
    /// The checks of time and peak memory, which `scripts/test` runs in its quiet pass: beside the
    /// parallel suites their clocks and the process's peak memory measure the other tests.
    @Suite struct TimingTests {
        @Test func aGibibyteWithoutANewlineIsRefusedQuickly() async throws {
            try await MarginImportTrustTests().aGibibyteWithoutANewlineIsRefusedQuickly()
        }
    }
}
