import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A real HTTP receiver for hook deliveries: Python's `http.server` on 127.0.0.1, run as a child
/// process, that records every request (method, path, headers, body) and answers with the
/// status, body and delay last set by `answer(status:body:delay:)` (200 `ok` at first; it may
/// be changed while it runs). `close()` (also run on deinit) stops it and removes its folder.
///
/// The Python comes from `MARGIN_TEST_PYTHON`, else `<repo>/.venv-test/bin/python`, else
/// `/usr/bin/python3`; it needs only the standard library.
public final class HookReceiver: @unchecked Sendable {
    /// One request as received.
    public struct Request: Decodable, Sendable {
        public var method: String
        public var path: String
        /// Header names lowercased.
        public var headers: [String: String]
        public var body: String

        /// The body parsed as a JSON object (empty when it is not one).
        public var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
    }

    /// Why the receiver could not do what was asked.
    public struct ReceiverError: Error, CustomStringConvertible {
        public var description: String
    }

    public let port: Int
    /// `http://127.0.0.1:PORT`.
    public var url: String { "http://127.0.0.1:\(port)" }
    private let directory: URL
    private let process: ChildProcess

    /// The server: answers as `answer.json` says, appends each request to `requests.jsonl`.
    static let script = #"""
        import http.server, json, os, sys, time
        folder = sys.argv[1]
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                record = {"method": self.command, "path": self.path, "body": body,
                          "headers": {k.lower(): v for k, v in self.headers.items()}}
                with open(os.path.join(folder, "requests.jsonl"), "a") as log:
                    log.write(json.dumps(record) + "\n")
                with open(os.path.join(folder, "answer.json")) as f:
                    answer = json.load(f)
                time.sleep(answer["delay"])
                data = answer["body"].encode()
                self.send_response(answer["status"])
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            do_POST = do_PUT = do_GET = handle_any
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(os.path.join(folder, "ready.tmp"), "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(os.path.join(folder, "ready.tmp"), os.path.join(folder, "ready"))
        server.serve_forever()
        """#

    private init(port: Int, directory: URL, process: ChildProcess) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    /// A started receiver, listening; waits at most `timeout` for it (long: beside 550 parallel
    /// tests on two cores, Python's start took over 30 s in a CI run, as the SMTP sink's does).
    public static func started(timeout: Duration = .seconds(120)) async throws -> HookReceiver {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("margin-hook-receiver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try writeAnswer(status: 200, body: "ok", delay: 0, in: directory)
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: pythonPath())
        process.arguments = ["-c", script, directory.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        // Kept for the error below; a sender that gives up on a slow answer also makes the
        // script print a broken pipe there, which is noise.
        let errors = directory.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        process.environment = ProcessInfo.processInfo.environment.merging(["PYTHONUNBUFFERED": "1"]) { $1 }
        try process.run()
        let ready = directory.appendingPathComponent("ready").path
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, process.isRunning {
            if let text = try? String(contentsOfFile: ready, encoding: .utf8), let port = Int(text) {
                return HookReceiver(port: port, directory: directory, process: process)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let exited = !process.isRunning
        process.terminate()
        let said = (try? String(contentsOf: errors, encoding: .utf8)).map { String($0.suffix(2000)) } ?? ""
        try? FileManager.default.removeItem(at: directory)
        throw ReceiverError(description: "the hook receiver did not start (\(exited ? "it exited" : "no port within \(timeout)")): \(said)")
    }

    deinit { close() }

    /// Answers from now on with `status` and `body`, after `delay` seconds.
    public func answer(status: Int, body: String = "", delay: Double = 0) throws {
        try Self.writeAnswer(status: status, body: body, delay: delay, in: directory)
    }

    private static func writeAnswer(status: Int, body: String, delay: Double, in directory: URL) throws {
        let data = try JSONSerialization.data(withJSONObject: ["status": status, "body": body, "delay": delay])
        let temporary = directory.appendingPathComponent("answer.tmp")
        try data.write(to: temporary)
        _ = rename(temporary.path, directory.appendingPathComponent("answer.json").path)
    }

    /// The requests received so far, oldest first.
    public func requests() throws -> [Request] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("requests.jsonl"), encoding: .utf8) else { return [] }
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").map { try decoder.decode(Request.self, from: Data($0.utf8)) }
    }

    /// Stops the process it started and removes its folder.
    public func close() {
        if process.isRunning {
            let pid = process.processIdentifier
            process.terminate()
            for _ in 0..<100 where process.isRunning { usleep(20_000) }
            if process.isRunning { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// `MARGIN_TEST_PYTHON`, else the repository's `.venv-test`, else the system's Python.
    static func pythonPath() -> String {
        if let path = ProcessInfo.processInfo.environment["MARGIN_TEST_PYTHON"], !path.isEmpty { return path }
        let venv = TestEnvironment.repositoryRoot.appendingPathComponent(".venv-test/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/python3"
    }
}
