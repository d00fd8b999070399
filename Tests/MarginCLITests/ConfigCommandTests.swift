import Foundation
import TestSupport
import Testing

/// `margin.toml`, `MARGIN_*` variables and flags, and `margin config check|show`.
@Suite struct ConfigCommandTests {
    /// The value line `config show` prints for `name` (within its table), or nil.
    static func shown(_ output: String, _ name: String) -> String? {
        output.split(separator: "\n").map(String.init).first { $0.hasPrefix("\(name) = ") }
    }

    @Test func flagsWinOverEnvironmentOverFileOverDefaults() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = scratch.url.appendingPathComponent("margin.toml").path
        try """
        # A site's settings
        port = 7001
        host = "127.0.0.2"
        edit_window = 60

        [log]
        level = "debug"
        """.write(toFile: file, atomically: true, encoding: .utf8)

        let fileOnly = try await CLI.run(["config", "show", "--config", file])
        #expect(fileOnly.status == 0, "\(fileOnly.stderr)")
        #expect(Self.shown(fileOnly.stdout, "port") == "port = 7001    # \(file):2")
        #expect(Self.shown(fileOnly.stdout, "level") == "level = \"debug\"    # \(file):7")
        #expect(fileOnly.stdout.contains("# rate_limit = 3/min,20/h    # default"))

        let environment = try await CLI.run(["config", "show"], environment: ["MARGIN_CONFIG": file, "MARGIN_PORT": "7002"])
        #expect(Self.shown(environment.stdout, "port") == "port = 7002    # MARGIN_PORT")
        #expect(Self.shown(environment.stdout, "host") == "host = \"127.0.0.2\"    # \(file):3")

        let flag = try await CLI.run(["config", "show", "--config", file, "--port", "7003"], environment: ["MARGIN_PORT": "7002"])
        #expect(Self.shown(flag.stdout, "port") == "port = 7003    # --port")
        #expect(Self.shown(flag.stdout, "edit_window") == "edit_window = 60    # \(file):4")
    }

    @Test func serveRunsWithTheFileSettings() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let port = try freePort()
        let file = scratch.url.appendingPathComponent("margin.toml").path
        try "port = \(port)\ndb = \"\(scratch.database)\"\nrate_limit = \"off\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        try await ServeCommandTests.withServer(arguments: ["serve", "--config", file], environment: [:], port: port) {
            let config = await HTTP.send("GET", port: port, path: "/api/v1/config?site=default")
            #expect(config?.status == 200)
        }
        #expect(FileManager.default.fileExists(atPath: scratch.database), "the database named by the file was created")
        // Other commands find the database through the same file.
        let sites = try await CLI.run(["sites", "list", "--json"], environment: ["MARGIN_CONFIG": file])
        #expect(sites.status == 0, "\(sites.stderr)")
        #expect(sites.stdout.contains("\"default\""))
    }

    @Test func checkNamesTheBadKeyAndLine() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let cases: [(String, String)] = [
            ("port = 8080\n\n[smtp]\nhots = \"mail\"\n", "line 4: 'smtp.hots' is not a setting Margin knows (did you mean 'smtp.host'?)"),
            ("# c\nport = \"8080\"\n", "line 2: 'port' must be an integer, not a string"),
            ("port = 70000\n", "line 1: 'port' must be from 0 to 65535"),
            ("[spam]\nhold = 12\n", "line 2: 'spam.hold' must be below spam.threshold"),
            ("rate_limit = \"lots\"\n", "line 1: 'rate_limit' is like 3/min,20/h or off, not 'lots'"),
            ("[mail]\nmoderators = [\"a@example.org\", 3]\n", "line 2: 'mail.moderators' must be an array of strings, not an array"),
            ("port = 1\nport = 2\n", "line 2: 'port' is set twice (first on line 1)"),
            ("host = \"open\n", "line 1: the string is not closed before the end of the line"),
            ("when = 1979-05-27\n", "line 1: dates and times are not supported"),
        ]
        for (index, (text, message)) in cases.enumerated() {
            let file = scratch.url.appendingPathComponent("bad\(index).toml").path
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try await CLI.run(["config", "check", file])
            #expect(result.status == 1, "\(text)")
            #expect(result.stderr.contains("\(file) \(message)"), "\(result.stderr)")
            #expect(!result.stderr.contains("Fatal") && !result.stderr.contains("Stack"))
        }
        let good = scratch.url.appendingPathComponent("good.toml").path
        try "port = 8081\n[mail]\nmoderators = 'mod@example.org'\nnotify_all = true\n".write(toFile: good, atomically: true, encoding: .utf8)
        let ok = try await CLI.run(["config", "check", good], environment: ["MARGIN_PORT": "not a number"])
        #expect(ok.status == 0, "the check reads only the file: \(ok.stderr)")
        #expect(ok.stdout == "\(good): ok (3 settings)\n")

        // serve refuses the same mistakes before opening anything.
        let serve = try await CLI.run(["serve", "--config", scratch.url.appendingPathComponent("bad2.toml").path, "--db", scratch.database])
        #expect(serve.status == 1)
        #expect(serve.stderr.contains("line 1: 'port' must be from 0 to 65535"))
        #expect(!FileManager.default.fileExists(atPath: scratch.database))
        let environment = try await CLI.run(["serve", "--db", scratch.database], environment: ["MARGIN_LINK_DAYS": "0"])
        #expect(environment.stderr.contains("MARGIN_LINK_DAYS: must be at least 1"), "\(environment.stderr)")
        let missing = try await CLI.run(["config", "check", scratch.url.appendingPathComponent("none.toml").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot read the configuration file"))
    }

    @Test func showMasksSecrets() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = scratch.url.appendingPathComponent("margin.toml").path
        try "[smtp]\nhost = \"127.0.0.1\"\npassword = \"file-secret-7731\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let fromFile = try await CLI.run(["config", "show", "--config", file])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(!fromFile.stdout.contains("file-secret-7731"))
        #expect(Self.shown(fromFile.stdout, "password") == "password = \"********\"    # \(file):3")
        let fromEnvironment = try await CLI.run(["config", "show", "--config", file], environment: ["MARGIN_SMTP_PASSWORD": "env-secret-9917"])
        #expect(!fromEnvironment.stdout.contains("env-secret-9917"))
        #expect(Self.shown(fromEnvironment.stdout, "password") == "password = \"********\"    # MARGIN_SMTP_PASSWORD")
    }
}
