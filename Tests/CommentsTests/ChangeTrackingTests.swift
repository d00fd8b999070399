import Foundation
import GRDB
import Synchronization
import Testing
@testable import Comments

/// What lets the server keep sites, the blocklist and threads in memory while comments pour in
/// (`settingsStamp`, `changeMark`, `markIfUnchanged(threadID:since:at:)`), which must still see every
/// other change, from this process or another; and the checkpoint that keeps the WAL short.
@Suite struct ChangeTrackingTests {
    let publish = ScreeningPlan(query: nil) { _, _ in Judgement(status: .approved) }

    func comment(_ store: SQLiteStore, _ text: String) async throws {
        _ = try await store.insert(NewComment(siteID: "blog", uri: "/p/", title: nil, comment: draft(text)), screening: publish, mail: nil)
    }

    /// A store on a fresh file holding the site "blog", its path, and its folder (to remove).
    func fileStore() async throws -> (store: SQLiteStore, path: String, directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("changes-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("m.sqlite").path
        let store = try SQLiteStore(path: path)
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        return (store, path, directory)
    }

    /// Given a file store, the settings stamp moves for blocks and site changes, from this
    /// connection or another, and never for comments.
    @Test func movesForSettingsNotForComments() async throws {
        let (store, path, directory) = try await fileStore()
        defer { try? FileManager.default.removeItem(at: directory) }

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
        _ = try await store.removeBlock(kind: .ip, value: "198.51.100.0/24", siteID: nil)
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

    /// Readers asking for stamps while new comments commit (a mixed load) see the commit a moment
    /// before the store's own bookkeeping does; they must not take it for an unknown change. Once
    /// every one of them did, and a mixed load emptied every cached thread and the site list at
    /// almost every new comment. Each new comment here must still be seen in its own thread.
    @Test func readersRacingCommentCommitsKeepTheSettingsAndOtherThreads() async throws {
        let (store, _, directory) = try await fileStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let quiet = try await store.insert(
            NewComment(siteID: "blog", uri: "/quiet/", title: nil, comment: draft("untouched")), screening: publish, mail: nil).0
        let settings = try #require(store.settingsStamp())
        let quietStamp = try #require(store.changeStamp())
        let quietMark = try #require(store.changeMark(at: quietStamp))
        let done = Mutex(false)
        let counted = Mutex<(epochChanges: Int, reads: Int)?>(nil)
        // A thread of its own, not a task: a task spinning until the posts end would hold one of
        // the few threads of the concurrency pool, which the posts (and other tests) need.
        let reader = Thread {
            var changes = 0, reads = 0
            while !done.withLock({ $0 }) {
                if store.settingsStamp() != settings { changes += 1 }
                reads += 1
            }
            counted.withLock { $0 = (changes, reads) }
        }
        reader.start()
        // However the test ends (a failed #require throws out of the loop), the reader stops:
        // else it spins on, and the run never finishes.
        defer { done.withLock { $0 = true } }
        for index in 0..<150 {
            let beforeStamp = try #require(store.changeStamp())
            let before = try #require(store.changeMark(at: beforeStamp))
            let thread = try await store.insert(
                NewComment(siteID: "blog", uri: "/busy/", title: nil, comment: draft("comment \(index)")), screening: publish, mail: nil).0
            #expect(store.markIfUnchanged(threadID: thread.id, since: before, at: try #require(store.changeStamp())) == nil,
                    "a new comment is seen in its thread")
        }
        done.withLock { $0 = true }
        while counted.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(1)) }
        let (epochChanges, reads) = try #require(counted.withLock { $0 })
        #expect(reads > 150)
        #expect(epochChanges == 0, "\(epochChanges) of \(reads) reads saw the settings change")
        #expect(store.settingsStamp() == settings)
        #expect(store.markIfUnchanged(threadID: quiet.id, since: quietMark, at: try #require(store.changeStamp())) != nil,
                "a thread nobody wrote to stays cached")
    }

    /// A cached thread stays good while only other threads get new comments here, and not a
    /// moment longer: its own new comment, any other kind of write, or anything written by
    /// another connection makes it doubtful.
    @Test func threadsOtherThanTheOnesWrittenStayUnchanged() async throws {
        let (store, path, directory) = try await fileStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        func post(_ uri: String, _ text: String) async throws -> CommentThread {
            try await store.insert(NewComment(siteID: "blog", uri: uri, title: nil, comment: draft(text)), screening: publish, mail: nil).0
        }
        let one = try await post("/one/", "first")
        let two = try await post("/two/", "first")
        func markNow() throws -> (ChangeMark, Int64) {
            let stamp = try #require(store.changeStamp())
            return (try #require(store.changeMark(at: stamp)), stamp)
        }
        func unchanged(_ thread: CommentThread, since mark: ChangeMark) throws -> Bool {
            store.markIfUnchanged(threadID: thread.id, since: mark, at: try #require(store.changeStamp())) != nil
        }

        var (mark, _) = try markNow()
        #expect(try unchanged(one, since: mark) && unchanged(two, since: mark))
        _ = try await post("/two/", "second")
        #expect(try unchanged(one, since: mark), "a comment elsewhere leaves /one/ alone")
        #expect(try !unchanged(two, since: mark))
        _ = try await post("/one/", "second")
        #expect(try !unchanged(one, since: mark))

        (mark, _) = try markNow()
        let comment = try #require(try await store.visibleComments(siteID: "blog", uri: "/one/")?.1.first)
        _ = try await store.vote(commentID: comment.id, voter: "reader", value: 1, at: 5000)
        #expect(try !unchanged(two, since: mark), "a vote is not a new comment: everything is doubtful")

        (mark, _) = try markNow()
        let other = try SQLiteStore(path: path)
        _ = try await other.delete(commentID: comment.id)
        #expect(try !unchanged(two, since: mark), "another connection's write is never taken for ours")
        #expect(try !unchanged(one, since: mark))

        // A mark taken before a comment is written does not vouch for its thread afterwards.
        let (early, earlyStamp) = try markNow()
        _ = try await post("/two/", "third")
        #expect(store.markIfUnchanged(threadID: two.id, since: early, at: earlyStamp) == nil)
        #expect(try SQLiteStore().changeMark(at: 1) == nil)
    }

    /// `checkpoint()` (run by the server every half second) leaves the comments in the database
    /// file itself: a copy of the file without its WAL has them.
    @Test func checkpointMovesTheWALIntoTheFile() async throws {
        let (store, path, directory) = try await fileStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        func fileOnlyCount() throws -> Int {
            let copy = directory.appendingPathComponent("copy-\(UUID()).sqlite").path
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            return try DatabaseQueue(path: copy).read { db in
                // Even the schema may still be only in the WAL.
                try db.tableExists("comments") ? try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM comments") ?? 0 : 0
            }
        }
        for index in 0..<20 { try await comment(store, "kept \(index)") }
        #expect(try fileOnlyCount() == 0, "commits stay in the WAL below the fallback threshold")
        #expect(try await store.checkpoint() > 0)
        #expect(try fileOnlyCount() == 20)
        #expect(try await SQLiteStore().checkpoint() == 0)
    }

    /// The change stamp is answered from the WAL index while nothing commits, and still moves
    /// with every commit of any connection: another process's, one in this process, and the
    /// store's own, through checkpoints that restart the WAL, and across a close and reopen.
    @Test func stampIsAnsweredFromMemoryYetFollowsEveryCommit() async throws {
        let (store, path, directory) = try await fileStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let other = try DatabaseQueue(path: path)
        defer { try? other.close() }

        var seen = Set<Int64>()
        var last = try #require(store.changeStamp())
        seen.insert(last)
        for round in 0..<60 {
            switch round % 4 {
            case 0: try await other.write { try $0.execute(sql: "UPDATE sites SET name = ? WHERE id = 'blog'", arguments: ["Blog \(round)"]) }
            case 1: try await comment(store, "comment \(round)")
            case 2:
                let cli = try SQLiteStore(path: path)
                try await cli.addBlock(BlockEntry(kind: .ip, value: "198.51.100.\(round)", createdAt: 1))
                try cli.close()
            default:
                try await comment(store, "comment \(round)")
                _ = try await store.checkpoint()
                try await other.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(RESTART)") }
            }
            let now = try #require(store.changeStamp())
            #expect(now != last, "round \(round): a commit must move the stamp")
            last = now
            let asked = store.changeStampQueries
            for _ in 0..<200 { #expect(store.changeStamp() == now) }
            #expect(store.changeStampQueries == asked, "round \(round): unchanged, so SQLite is not asked again")
            seen.insert(now)
        }
        #expect(seen.count == 61)
    }

}
