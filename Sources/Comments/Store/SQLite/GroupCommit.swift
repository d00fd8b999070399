import GRDB
import Synchronization

/// Group commit for the writes a busy site makes all the time: a write that arrives while
/// others are being written waits for the transaction after theirs and shares it with every
/// write that arrived meanwhile. Each write keeps its own outcome (it runs in a savepoint, so
/// one that fails is undone alone), and none is answered before the transaction holding it
/// has committed, so an acknowledged write is as durable as one committed alone. Under load
/// this turns a hundred small transactions into a few larger ones; alone, a write commits at
/// once as before.
final class GroupCommit<Item: Sendable, Output: Sendable>: Sendable {
    /// One write's work inside the shared transaction.
    typealias Work = @Sendable (Database, Item) throws -> Output

    private struct Waiting: Sendable {
        let item: Item
        let continuation: CheckedContinuation<Output, any Error>
    }

    private struct State {
        var queue: [Waiting] = []
        var flushing = false
    }

    private let state = Mutex(State())
    private let writer: any DatabaseWriter
    private let maximumBatch: Int
    private let prepare: @Sendable (Database) -> Void
    private let work: Work
    private let mapError: @Sendable (any Error) -> any Error

    /// `prepare` runs at the start of each shared transaction; `work` once per write.
    init(
        writer: any DatabaseWriter, maximumBatch: Int = 64, prepare: @escaping @Sendable (Database) -> Void = { _ in },
        mapError: @escaping @Sendable (any Error) -> any Error = { $0 }, work: @escaping Work
    ) {
        self.writer = writer
        self.maximumBatch = maximumBatch
        self.prepare = prepare
        self.mapError = mapError
        self.work = work
    }

    /// Writes `item` in the next transaction and returns its output once that has committed.
    func submit(_ item: Item) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let lead = state.withLock { state -> Bool in
                state.queue.append(Waiting(item: item, continuation: continuation))
                if state.flushing { return false }
                state.flushing = true
                return true
            }
            if lead { Task { await self.flush() } }
        }
    }

    /// Writes batches until nobody is waiting.
    private func flush() async {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                guard !state.queue.isEmpty else {
                    state.flushing = false
                    return []
                }
                let taken = Array(state.queue.prefix(maximumBatch))
                state.queue.removeFirst(taken.count)
                return taken
            }
            if batch.isEmpty { return }
            let items = batch.map(\.item)
            let outcomes: [Result<Output, any Error>]
            do {
                outcomes = try await writer.write { [prepare, work] db in
                    prepare(db)
                    var outcomes: [Result<Output, any Error>] = []
                    outcomes.reserveCapacity(items.count)
                    for item in items {
                        let outcome = Result {
                            var output: Output?
                            try db.inSavepoint {
                                output = try work(db, item)
                                return .commit
                            }
                            return output!
                        }
                        if case .failure(let error) = outcome, !db.isInsideTransaction {
                            // SQLite rolled the whole transaction back on its own (it may after a
                            // full disk or an I/O error): the writes before this one are gone too,
                            // and the ones after must not commit alone, so the batch fails.
                            throw error
                        }
                        outcomes.append(outcome)
                    }
                    return outcomes
                }
            } catch {
                // The transaction itself failed (a full disk, a read-only file): nothing was written.
                outcomes = batch.map { _ in .failure(error) }
            }
            for (waiting, outcome) in zip(batch, outcomes) {
                waiting.continuation.resume(with: outcome.mapError(mapError))
            }
        }
    }
}
