import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `margin serve` (the built binary) in a child process, once it answers `/healthz`: its port,
/// its log (standard output and error together, kept in memory: a pipe, which a file-size limit
/// put on the server does not reach), and ways to stop it with the signal a test chooses.
///
/// ```swift
/// let server = try await ServeProcess.start(database: scratch.database, arguments: ["--rate-limit", "off"])
/// defer { server.stop() }
/// let answer = await HTTP.send("GET", port: server.port, path: "/api/v1/comments?site=default&uri=/")
/// #expect(try await server.terminate() == 0)
/// ```
public final class ServeProcess: @unchecked Sendable {
    /// The child process.
    public let process = ChildProcess()
    /// The port it listens on.
    public let port: Int
    /// The address it listens on.
    public let host: String
    private let pipe = Pipe()
    private let output = PipeCollector()

    /// Starts `margin arguments…` (`serve` and its flags, or none: the embedded default) with
    /// `environment` added to the test's own and the `unset` variables taken out, in `directory`
    /// when given, under `launcher` (a command that ends by running its arguments, such as
    /// `unshare … exec "$@"`) when given; returns once `http://host:port/healthz` answers 200,
    /// waiting a bounded time. The arguments (or the environment, or a `--config` file) must
    /// choose that port.
    public init(
        arguments: [String], port: Int, host: String = "127.0.0.1", environment: [String: String] = [:], unset: [String] = [],
        directory: URL? = nil, launcher: [String] = []
    ) async throws {
        self.port = port
        self.host = host
        let command = launcher + [CLI.executable.path] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        var inherited = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        for name in unset { inherited[name] = nil }
        process.environment = inherited
        process.currentDirectoryURL = directory
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        output.drain(pipe)
        for _ in 0..<300 {
            if await HealthProbe.status(host: host, port: port) == 200 { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        signal(SIGKILL)
        throw TestFailure("margin serve did not answer /healthz on \(host):\(port):\n\(log)")
    }

    /// `margin serve --host 127.0.0.1 --port P --db database arguments…` on a free port `P`.
    public static func start(
        database: String, arguments: [String] = [], environment: [String: String] = [:], launcher: [String] = []
    ) async throws -> ServeProcess {
        // A free port can be taken by another test before the server binds it: then another.
        for attempt in 1... {
            let port = try freePort()
            do {
                return try await ServeProcess(
                    arguments: ["serve", "--host", "127.0.0.1", "--port", String(port), "--db", database] + arguments,
                    port: port, environment: environment, launcher: launcher)
            } catch let error where attempt < 5 && String(describing: error).contains("Address already in use") {
                continue
            }
        }
        fatalError("unreachable")
    }

    deinit { stop() }

    /// Its process id.
    public var pid: Int32 { process.processIdentifier }

    /// Everything the server wrote so far.
    public var log: String { output.text }

    /// Sends signal `number` to it while it runs (once it has been reaped its pid may be another's).
    public func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// Waits (bounded) until a line of the log satisfies `matches`; whether one did. A line the
    /// server wrote before it answered may still be on its way through the pipe.
    public func waitForLog(timeout: Duration = .seconds(30), where matches: (Substring) -> Bool) async throws -> Bool {
        try await eventually(timeout: timeout, every: .milliseconds(50)) { log.split(separator: "\n").contains(where: matches) }
    }

    /// Waits (bounded) until the log contains `text`; whether it did.
    public func waitForLog(_ text: String, timeout: Duration = .seconds(30)) async throws -> Bool {
        try await waitForLog(timeout: timeout) { $0.contains(text) }
    }

    /// SIGTERM, then waits (bounded) for the exit and for the last of its log; returns the exit
    /// status. Throws when it has not stopped.
    @discardableResult
    public func terminate() async throws -> Int32 {
        if process.isRunning { signal(SIGTERM) }
        guard let exit = try await waitForExit(timeout: .seconds(10)) else {
            stop()
            throw TestFailure("margin serve did not stop on SIGTERM")
        }
        return exit.status
    }

    /// Waits (bounded) for the process to end; its exit status, or nil when it still runs.
    public func waitForExit(timeout: Duration = .seconds(15)) async throws -> (status: Int32, signalled: Bool)? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { return nil }
        // Let the reader take the last lines of the log too.
        while !output.ended && ContinuousClock.now < deadline + .seconds(2) { try await Task.sleep(for: .milliseconds(10)) }
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal)
    }

    /// SIGTERM if it still runs, without waiting.
    public func stop() {
        if process.isRunning { process.terminate() }
    }
}
