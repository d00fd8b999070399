import Foundation
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// A `margin serve` process on a database file, to be stopped with a signal of the test's
/// choosing (the crash, shutdown and failure tests).
final class ServerProcess: @unchecked Sendable {
    let process: ChildProcess
    let port: Int
    let database: String
    private let log = Output()

    /// Starts `margin serve --port P --db database arguments…` and waits (bounded) for `/healthz`;
    /// under `launcher` (a command that ends by running its arguments) when one is given.
    static func start(database: String, arguments: [String] = [], launcher: [String] = []) async throws -> ServerProcess {
        let port = try ServeCommandTests.freePort()
        let server = ServerProcess(database: database, port: port, arguments: arguments, launcher: launcher)
        try server.process.run()
        server.log.drain(server.pipe)
        for _ in 0..<300 {
            if await HTTP.send("GET", port: port, path: "/healthz")?.status == 200 { return server }
            if !server.process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        server.signal(SIGKILL)
        Issue.record("margin serve did not answer /healthz on port \(port): \(server.output)")
        throw CancellationError()
    }

    private let pipe = Pipe()

    private init(database: String, port: Int, arguments: [String], launcher: [String]) {
        self.database = database
        self.port = port
        process = ChildProcess()
        let command = [CLI.executable.path, "serve", "--host", "127.0.0.1", "--port", String(port), "--db", database] + arguments
        let full = launcher + command
        process.executableURL = URL(fileURLWithPath: full[0])
        process.arguments = Array(full.dropFirst())
        process.standardOutput = pipe
        process.standardError = pipe
    }

    var pid: Int32 { process.processIdentifier }

    /// What the server has logged so far.
    var output: String { log.text }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Waits (bounded) for the process to end; its exit status, or nil when it still runs.
    func waitForExit(timeout: Duration = .seconds(15)) async throws -> (status: Int32, signalled: Bool)? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { return nil }
        // Let the reader take the last lines of the log too.
        while !log.ended && ContinuousClock.now < deadline + .seconds(2) { try await Task.sleep(for: .milliseconds(10)) }
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal)
    }

    /// Everything a pipe delivers, read on a thread of its own so the child never blocks on it.
    private final class Output: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        private var finished = false

        /// Whether the pipe has reached its end (the process and its children are gone).
        var ended: Bool { lock.withLock { finished } }

        func drain(_ pipe: Pipe) {
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

        var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    }
}

/// Small HTTP requests to the local server.
enum HTTP {
    /// An answer: status, body and headers (lower-cased names).
    struct Answer: Sendable {
        var status: Int
        var body: String
        var headers: [String: String]

        /// The body as a JSON object.
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
    }

    /// Sends a request; nil when nothing answers (refused, reset, timed out).
    static func send(_ method: String, port: Int, path: String, json: String? = nil, body: Data? = nil, headers: [String: String] = [:],
                     timeout: TimeInterval = 5) async -> Answer? {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = timeout
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
        }
        guard let (data, response) = try? await URLSession.shared.data(for: request), let http = response as? HTTPURLResponse else {
            return nil
        }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return Answer(status: http.statusCode, body: String(decoding: data, as: UTF8.self), headers: fields)
    }

    /// A JSON string literal for `text`.
    static func quoted(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }
}

/// Other programs the tests use: `sqlite3` to look at the file the server wrote, `prlimit`
/// and `chattr` to make the disk refuse writes, `systemd-analyze`, `curl` and `openssl` for the
/// deployment examples.
enum Tool {
    /// Tests that need root run under CI whatever they find, so that a CI machine that cannot run
    /// them fails instead of skipping them.
    static var underCI: Bool { TestEnvironment.underCI }

    /// Runs `/usr/bin/NAME arguments…` to completion.
    static func run(_ name: String, _ arguments: [String]) async throws -> CLI.Result {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/\(name)")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        async let stdout = readToEnd(out.fileHandleForReading)
        async let stderr = readToEnd(err.fileHandleForReading)
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning {
            if ContinuousClock.now > deadline { process.terminate() }
            try await Task.sleep(for: .milliseconds(10))
        }
        return CLI.Result(status: process.terminationStatus, stdout: String(decoding: await stdout, as: UTF8.self),
                          stderr: String(decoding: await stderr, as: UTF8.self))
    }

    /// The rows `sql` selects from the database file, read by the `sqlite3` program.
    static func rows(_ database: String, _ sql: String) async throws -> [[String: Any]] {
        let result = try await run("sqlite3", ["-json", database, sql])
        try #require(result.status == 0, "sqlite3 failed: \(result.stderr)")
        let text = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return [] }
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    /// `PRAGMA integrity_check` of the file, as `sqlite3` prints it ("ok" when sound).
    static func integrity(_ database: String) async throws -> String {
        try await run("sqlite3", [database, "PRAGMA integrity_check"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
