import Foundation
import TestSupport

/// The built `margin` binary, run as `margin serve` in a child process whose standard output and
/// error both go to one log file.
final class ServeProcess {
    /// The repository root.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `margin` beside the test bundle (both come from one `swift build --build-tests`).
    static var executable: URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("margin")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return root.appendingPathComponent(".build/debug/margin")
    }

    /// A port nobody is listening on right now.
    static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(socketFD, raw, length) == 0, getsockname(socketFD, raw, &length) == 0 else { throw TestFailure("no free port") }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs `margin` with `arguments` to completion (bounded by `timeout`); returns its exit
    /// status and standard output.
    static func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (status: Int32, stdout: String) {
        let process = ChildProcess()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        async let stdout = readToEnd(out.fileHandleForReading)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { process.terminate() }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (process.terminationStatus, String(decoding: await stdout, as: UTF8.self))
    }

    let process = ChildProcess()
    let logPath: String
    let port: Int
    let client: HTTPClient

    /// Starts `margin serve` with `arguments` (which must include `--port port`) and waits, bounded,
    /// until `/healthz` answers 200.
    init(arguments: [String], port: Int, logPath: String, environment: [String: String] = [:]) async throws {
        self.logPath = logPath
        self.port = port
        client = HTTPClient(port: port, timeout: .seconds(10))
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = Self.executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = log
        process.standardError = log
        try process.run()
        for _ in 0..<300 {
            if (try? await client.get("/healthz"))?.status == 200 { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw TestFailure("margin serve did not answer /healthz on port \(port):\n\(self.log)")
    }

    deinit { stop() }

    /// Everything the server wrote so far.
    var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// SIGTERM, then waits (bounded) for the exit; returns the exit status.
    @discardableResult
    func terminate() async throws -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<200 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { stop(); throw TestFailure("margin serve did not stop on SIGTERM") }
        return process.terminationStatus
    }

    /// Kills it if it still runs.
    func stop() {
        if process.isRunning { process.terminate() }
    }
}
