import GRDB
import Synchronization

/// Which changes of the database a cache must drop, for `settingsStamp`, `changeMark` and
/// `markIfUnchanged(threadID:since:at:)`. It watches every commit of the store's writer connection: a
/// commit starts a new epoch (everything cached is doubtful) unless the transaction declared
/// that it wrote new comments only (`markCommentsOnly`, on the hot path), in which case only
/// the threads it named (`noteThreadChanged`) changed. Any commit by another connection
/// (another process, the CLI) starts an epoch too, seen as a change of the writer's own
/// `PRAGMA data_version`, which moves only for commits of other connections; so does a change
/// stamp (`PRAGMA data_version` of the watching connection) that no commit here accounts for.
/// Forgetting to mark a transaction costs a reload, never a stale answer.
///
/// A comments-only commit is visible to readers a moment before `databaseDidCommit` runs. A
/// reader that sees the stamp move in that moment applies the commit's threads itself instead
/// of starting an epoch: the transaction began by accounting for every commit of other
/// connections before it (`markCommentsOnly(_:)`, under the write lock), so while it commits
/// nothing else can have moved the stamp. (Before this, every such reader started an epoch:
/// under a mixed load most new comments emptied every cached thread and the sites.)
///
/// (Not by observing tables: SQLite reports no row changes of `WITHOUT ROWID` tables.)
final class ChangeTracker: TransactionObserver, @unchecked Sendable {
    private struct State {
        var epoch: Int64 = 0
        /// Own comment-only commits so far.
        var sequence: Int64 = 0
        /// The commit (sequence) that last changed each thread, within the current epoch.
        var threadChanged: [Int64: Int64] = [:]
        /// The change stamp every commit up to now is accounted for in.
        var knownStamp: Int64?
        /// The writer's `data_version` at its last commit.
        var writerVersion: Int64?
        var commentsOnly = false
        var threadsInTransaction: Set<Int64> = []
        /// The threads of a comments-only commit under way (between the commit hook and
        /// `databaseDidCommit`), and whether a reader already applied them.
        var committing: Set<Int64>?
        var appliedEarly = false

        mutating func newEpoch() {
            epoch += 1
            threadChanged.removeAll(keepingCapacity: true)
        }

        mutating func mark(at current: Int64) -> ChangeMark {
            // data_version only grows on one connection: an older stamp (read before a commit
            // this tracker has already accounted for) hides nothing.
            if knownStamp.map({ current > $0 }) ?? true {
                if let threads = committing, knownStamp != nil {
                    applyCommentsOnly(threads)
                    committing = nil
                    appliedEarly = true
                } else {
                    newEpoch()
                }
                knownStamp = current
            }
            return ChangeMark(epoch: epoch, sequence: sequence)
        }

        /// Records a commit that changed only `threads`.
        mutating func applyCommentsOnly(_ threads: Set<Int64>) {
            sequence += 1
            for thread in threads { threadChanged[thread] = sequence }
        }
    }

    /// More remembered threads than this start a new epoch instead.
    private static let rememberedThreads = 100_000

    private let state = Mutex(State())
    private let watch: ChangeWatch?

    init(watch: ChangeWatch?) {
        self.watch = watch
    }

    /// The epoch for the current change stamp `current`.
    func epoch(at current: Int64) -> Int64 {
        mark(at: current).epoch
    }

    /// Where the history of changes stands at the change stamp `current`.
    func mark(at current: Int64) -> ChangeMark {
        state.withLock { $0.mark(at: current) }
    }

    /// The mark at `current` if thread `threadID` is unchanged since `mark`, else nil.
    func markIfUnchanged(threadID: Int64, since mark: ChangeMark, at current: Int64) -> ChangeMark? {
        state.withLock { state in
            let now = state.mark(at: current)
            return now.epoch == mark.epoch && (state.threadChanged[threadID] ?? 0) <= mark.sequence ? now : nil
        }
    }

    /// Declares, from inside a write transaction of the writer (which holds the write lock), that
    /// it only adds comments (with their threads, log entries and mail) to the threads it names
    /// with `noteThreadChanged`. Commits of other connections before it are accounted for here.
    func markCommentsOnly(_ db: Database) {
        let writerVersion = try? Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version"))
        let current = watch?.stamp(openingIfNeeded: false)
        state.withLock { state in
            state.commentsOnly = true
            // Anything not accounted for yet (another connection's commit, or a stamp that moved
            // unexplained) is dealt with now, so that while this transaction commits a moving
            // stamp can only be its own doing.
            var accounted = false
            if let writerVersion, let current, let known = state.knownStamp, writerVersion == state.writerVersion {
                accounted = current <= known
            }
            if !accounted {
                state.newEpoch()
                state.writerVersion = writerVersion
                state.knownStamp = current
            }
        }
    }

    /// Names a thread the current (comments-only) transaction changes.
    func noteThreadChanged(_ threadID: Int64) {
        _ = state.withLock { $0.threadsInTransaction.insert(threadID) }
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }

    func databaseDidChange(with event: DatabaseEvent) {}

    func databaseWillCommit() throws {
        state.withLock { state in
            if state.commentsOnly { state.committing = state.threadsInTransaction }
        }
    }

    func databaseDidCommit(_ db: Database) {
        // The stamp first, then the writer's version: when the version shows no commit of another
        // connection, none is hidden in the stamp either. Not opening the watch: until someone
        // asks for a stamp there is nothing to keep (and a bulk import needs the file to itself).
        let current = watch?.stamp(openingIfNeeded: false)
        let writerVersion = try? Int64.fetchOne(db, sql: "PRAGMA data_version")
        state.withLock { state in
            if !state.commentsOnly || writerVersion == nil || writerVersion != state.writerVersion
                || state.threadChanged.count + state.threadsInTransaction.count > Self.rememberedThreads {
                state.newEpoch()
            } else if !state.appliedEarly {
                state.applyCommentsOnly(state.threadsInTransaction)
            }
            state.commentsOnly = false
            state.committing = nil
            state.appliedEarly = false
            state.threadsInTransaction.removeAll(keepingCapacity: true)
            state.writerVersion = writerVersion
            state.knownStamp = current
        }
    }

    func databaseDidRollback(_ db: Database) {
        state.withLock { state in
            state.commentsOnly = false
            state.committing = nil
            state.appliedEarly = false
            state.threadsInTransaction.removeAll(keepingCapacity: true)
        }
    }
}
