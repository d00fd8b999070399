import Foundation
import Testing
@testable import Comments

/// `settingsStamp` lets the server keep sites and the blocklist in memory while comments pour
/// in, and must still move for every change of them, from this process or another.
@Suite struct SettingsStampTests {
    let publish = ScreeningPlan(query: nil) { _, _ in Judgement(status: .approved) }

    func comment(_ store: SQLiteStore, _ text: String) async throws {
        _ = try await store.insert(NewComment(siteID: "blog", uri: "/p/", title: nil, comment: draft(text)), screening: publish, mail: nil)
    }

    @Test func movesForSettingsNotForComments() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("m.sqlite").path
        let store = try SQLiteStore(path: path)
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))

        let start = try #require(store.settingsStamp())
        let changes = store.changeStamp()
        for index in 0..<3 { try await comment(store, "comment \(index)") }
        #expect(store.changeStamp() != changes, "comments do change the database")
        #expect(store.settingsStamp() == start, "but not the settings")

        try await store.addBlock(BlockEntry(kind: .ip, value: "198.51.100.0/24", createdAt: 1))
        let blocked = try #require(store.settingsStamp())
        #expect(blocked != start)
        #expect(store.settingsStamp() == blocked, "stable while nothing happens")
        try await comment(store, "after the block")
        #expect(store.settingsStamp() == blocked)
        _ = try await store.removeBlock(kind: .ip, value: "198.51.100.0/24")
        let unblocked = try #require(store.settingsStamp())
        #expect(unblocked != blocked)
        var site = try #require(try await store.site(id: "blog"))
        site.avatars = .gravatar
        try await store.updateSite(site)
        let updated = try #require(store.settingsStamp())
        #expect(updated != unblocked)

        // Another connection (the CLI, another process): whatever it wrote counts.
        let other = try SQLiteStore(path: path)
        try await other.addBlock(BlockEntry(kind: .word, value: "casino", createdAt: 2))
        let foreign = try #require(store.settingsStamp())
        #expect(foreign != updated)
        // Our next commit sees theirs in its own data_version and may move the stamp once more;
        // comments after that do not.
        try await comment(store, "mine again")
        let settled = try #require(store.settingsStamp())
        #expect(settled >= foreign)
        try await comment(store, "and again")
        #expect(store.settingsStamp() == settled)
        // A commit of another connection just before one of ours is not taken for ours.
        try await other.addBlock(BlockEntry(kind: .word, value: "poker", createdAt: 3))
        try await comment(store, "right after theirs")
        #expect(store.settingsStamp() != settled)
        #expect(try await store.blocklist().map(\.value).contains("poker"))

        #expect(try SQLiteStore().settingsStamp() == nil, "in memory nothing may be cached")
    }
}
