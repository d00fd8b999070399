import Foundation

/// Everything a pipe delivers, read on a thread of its own so the child never blocks on it, and
/// readable at any moment.
public final class PipeCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false

    public init() {}

    /// Whether the pipe has reached its end (the process and its children are gone).
    public var ended: Bool { lock.withLock { finished } }

    /// What the pipe delivered so far.
    public var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

    /// Starts reading `pipe` until its end.
    public func drain(_ pipe: Pipe) {
        Thread.detachNewThread { [self] in
            let handle = pipe.fileHandleForReading
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty {
                    lock.withLock { finished = true }
                    return
                }
                lock.withLock { data.append(chunk) }
            }
        }
    }
}
