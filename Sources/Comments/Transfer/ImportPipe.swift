import Foundation

/// A bounded hand-over from the thread that parses and sanitises to the one that writes, so the
/// two run on two cores while memory stays flat (at most `capacity` batches wait).
final class ImportPipe: @unchecked Sendable {
    /// Thrown into the reader when the writer has given up.
    struct Cancelled: Error {}

    private let condition = NSCondition()
    private var batches: [[PreparedEvent]] = []
    /// The reader has returned: no batch will follow.
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int = 8) {
        self.capacity = capacity
    }

    /// Reader side: waits while the pipe is full; throws `Cancelled` once the writer gave up.
    func push(_ batch: [PreparedEvent]) throws {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= capacity && !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        batches.append(batch)
        condition.broadcast()
    }

    /// Reader side: no more batches; `error` is what stopped the reader, if anything.
    func close(error: (any Error)?) {
        condition.lock()
        finished = true
        if failure == nil, !(error is Cancelled) { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    /// Writer side: the next batch, nil at the end; rethrows the reader's error.
    func pop() throws -> [PreparedEvent]? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished { condition.wait() }
        if !batches.isEmpty {
            let batch = batches.removeFirst()
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    /// Writer side: stops the reader and waits until it has returned, so nothing outlives the
    /// transaction.
    func cancelAndWait() {
        condition.lock()
        cancelled = true
        batches.removeAll()
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// Runs `produce` on its own thread, preparing each event and pushing them in batches.
    func startReader(
        skipInvalid: Bool,
        produce: @escaping @Sendable (_ skipInvalid: Bool, _ handle: (ImportEvent) throws -> Void) throws -> Void
    ) {
        let thread = Thread { [self] in
            var batch: [PreparedEvent] = []
            batch.reserveCapacity(Self.batchSize)
            do {
                try produce(skipInvalid) { event in
                    switch event {
                    case .thread(let thread): batch.append(.thread(thread))
                    case .post(let post): batch.append(.post(PreparedPost(post)))
                    case .skipped(let reason, _): batch.append(.skipped(reason: reason))
                    }
                    if batch.count >= Self.batchSize {
                        try push(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { try push(batch) }
                close(error: nil)
            } catch {
                close(error: error)
            }
        }
        // libxml2 and the sanitiser recurse little, but a hostile file should not meet a small stack.
        thread.stackSize = 8 << 20
        thread.start()
    }

    static let batchSize = 256
}
