import Moderation
import ServiceLifecycle
import Synchronization

/// Runs the hook sender beside the server until shutdown; the attempts in progress are finished
/// and recorded first, so no delivery is left claimed by a stopped node (a claim would lapse,
/// but only after its lease).
struct HookService: Service, CustomStringConvertible {
    let sender: HookSender

    /// How ServiceLifecycle names it in the log: not a dump of the sender and its settings.
    var description: String { "HookService" }

    func run() async throws {
        let stopping = Mutex(false)
        await withGracefulShutdownHandler {
            await sender.run(stopping: { stopping.withLock { $0 } })
        } onGracefulShutdown: {
            stopping.withLock { $0 = true }
        }
    }
}
