import Moderation
import ServiceLifecycle
import Synchronization

/// Runs the outbox sender beside the server until shutdown; a send in progress is finished
/// first, so the outbox's state is always written.
struct OutboxService: Service, CustomStringConvertible {
    let sender: OutboxSender

    /// How ServiceLifecycle names it in the log: not a dump of the sender and its settings.
    var description: String { "OutboxService" }

    func run() async throws {
        let stopping = Mutex(false)
        await withGracefulShutdownHandler {
            await sender.run(stopping: { stopping.withLock { $0 } })
        } onGracefulShutdown: {
            stopping.withLock { $0 = true }
        }
    }
}
