import ServiceLifecycle
import Synchronization

/// Runs a background sender (the mail outbox's, the hooks') beside the server until shutdown.
/// On shutdown the sender is told to stop and the work in progress is finished and recorded
/// first, so the outbox's state is always written and nothing is left claimed by a stopped node.
struct SenderService: Service, CustomStringConvertible {
    /// How ServiceLifecycle names it in the log: not a dump of the sender and its settings.
    let description: String
    /// The sender's loop, which returns soon after `stopping()` turns true.
    let work: @Sendable (_ stopping: @escaping @Sendable () -> Bool) async -> Void

    func run() async throws {
        let stopping = Mutex(false)
        await withGracefulShutdownHandler {
            await work { stopping.withLock { $0 } }
        } onGracefulShutdown: {
            stopping.withLock { $0 = true }
        }
    }
}
