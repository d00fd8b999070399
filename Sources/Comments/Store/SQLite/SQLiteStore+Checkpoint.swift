import GRDB

// The WAL checkpoint the server runs beside requests (`CheckpointService`).
extension SQLiteStore: Checkpointing {
    /// Copies what the WAL holds into the database file, from a connection of its own and
    /// without waiting for readers or the writer (a PASSIVE checkpoint), so that commits never
    /// do it on a request's time. The server calls it every half second; it also bounds what a
    /// power cut can cost, since the checkpoint syncs the WAL first. Returns the frames copied.
    @discardableResult
    public func checkpoint() async throws -> Int {
        guard let path = filePath else { return 0 }
        let connection = try checkpointer.withLock { connection -> DatabaseQueue in
            if let connection { return connection }
            let opened = try DatabaseQueue(path: path, configuration: Self.configuration())
            connection = opened
            return opened
        }
        do {
            return try await connection.writeWithoutTransaction { db in
                try db.checkpoint(.passive).checkpointedFrameCount
            }
        } catch {
            throw Self.mapped(error)
        }
    }
}
