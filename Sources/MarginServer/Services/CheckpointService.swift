import Comments
import Logging
import ServiceLifecycle

/// Checkpoints the store's write-ahead log every half second beside the server, so that no
/// request's commit has to (see `Checkpointing`, `SQLiteStore.checkpoint()`); one last time at
/// shutdown.
struct CheckpointService: Service, CustomStringConvertible {
    let store: any Checkpointing
    let logger: Logger

    /// How ServiceLifecycle names it in the log.
    var description: String { "CheckpointService" }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await store.checkpoint()
            } catch {
                logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(500)) }
        }
        _ = try? await store.checkpoint()
    }
}
