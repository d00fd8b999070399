import GRDB
import Hummingbird

/// `hello-grdb PORT DB`: the Hummingbird server of hello-hummingbird whose `GET /healthz` reads
/// a SQLite file in WAL mode through a GRDB `DatabasePool`, as Margin's store does.
let port = Int(CommandLine.arguments[1])!
let pool = try DatabasePool(path: CommandLine.arguments[2])
try await pool.write { db in try db.execute(sql: "CREATE TABLE IF NOT EXISTS comments(id INTEGER PRIMARY KEY, body TEXT)") }
let router = Router()
router.get("healthz") { _, _ in
    let count = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM comments") ?? 0 }
    return "ok \(count)"
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
