import Foundation
import MarginServer
import TestSupport
import Testing

/// Every setting in the catalogue (`ServerSettings.keys`) has a behaviour test: some test source
/// under `Tests/` names its flag, its `MARGIN_*` variable or its `margin.toml` key in a string
/// literal (the arguments, environment or configuration file of a server it runs), apart from the
/// sources that only parse or print settings. A setting without one must be exempted, with a reason.
@Suite struct SettingsCoverageTests {
    /// The repository root, links resolved.
    static let root = TestEnvironment.repositoryRoot.resolvingSymlinksInPath()

    /// Test sources whose mentions of settings are not behaviour tests, and why.
    static let notBehaviourTests: [String: String] = [
        "Tests/MarginServerTests/TOMLTests.swift":
            "parses TOML documents; runs no server",
        "Tests/MarginCLITests/ConfigCommandTests.swift":
            "`config show` and `config check`: which source wins, how values are printed, masked and refused",
        "Tests/MarginServerTests/SettingsCoverageTests.swift":
            "this file: it names settings to check others, and in its own scanner test",
        "Tests/TestSupport/SMTPSink.swift":
            "its --host and --port are flags of the test SMTP server's Python script, not of margin",
        "Tests/TestSupport/smtp_sink.py":
            "the test SMTP server's own --host and --port, not margin's",
    ]

    /// Settings that need no behaviour test of their own, and why. Empty while every setting has
    /// one; an entry must name a setting of the catalogue that no test sets, or this test fails.
    static let exemptions: [String: String] = [:]

    // MARK: Scanning

    /// What a source mentions in its string literals: every text (to look for flags and variables
    /// in) and the `margin.toml` keys written in them (`key = …` lines under their `[table]`).
    struct Mentions: Equatable {
        /// The literals' contents, escapes for newlines and quotes undone.
        var texts: [String] = []
        /// Dotted keys assigned in those texts, such as `limits.max_headers`.
        var fileKeys: Set<String> = []

        /// Whether `token` occurs in a literal, not as part of a longer name (`--max-header`
        /// is not in `--max-headers`, nor `MARGIN_SMTP_PASSWORD` in `MARGIN_SMTP_PASSWORD_FILE`).
        func contains(token: String) -> Bool {
            texts.contains { SettingsCoverageTests.contains(token, in: $0) }
        }

        /// Whether the setting `key` is set in this source: by flag, variable or file key.
        func sets(_ key: SettingKey) -> Bool {
            key.flag.map(contains(token:)) == true || contains(token: key.environment) || fileKeys.contains(key.name)
        }
    }

    /// Whether `token` occurs in `text` with no letter, digit, `_` or `-` right before or after it.
    static func contains(_ token: String, in text: String) -> Bool {
        func isNameCharacter(_ character: Character) -> Bool {
            character.isLetter || character.isNumber || character == "_" || character == "-"
        }
        var searchFrom = text.startIndex
        while let found = text.range(of: token, range: searchFrom..<text.endIndex) {
            let before = found.lowerBound == text.startIndex ? nil : text[text.index(before: found.lowerBound)]
            let after = found.upperBound == text.endIndex ? nil : text[found.upperBound]
            if !(before.map(isNameCharacter) ?? false) && !(after.map(isNameCharacter) ?? false) { return true }
            searchFrom = text.index(after: found.lowerBound)
        }
        return false
    }

    /// The mentions in a Swift source, or a Python one (which also has `'…'` and `'''…'''` strings).
    static func mentions(in source: String, python: Bool) throws -> Mentions {
        var rest = source
        var texts: [String] = []
        // Multi-line literals first (Swift's `"""`, also raw `#"""`; Python's `"""` and `'''`),
        // then what is left of the source is searched for one-line literals.
        let multiLine = try Regex(python ? #"(?s)("""|''')(.*?)\1"# : #"(?s)"""(.*?)""""#)
        for match in source.matches(of: multiLine).reversed() {
            if let body = match.output[python ? 2 : 1].substring { texts.append(String(body)) }
            rest.removeSubrange(match.range)
        }
        let oneLine = try Regex(python ? #""((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'"# : #""((?:[^"\\\n]|\\.)*)""#)
        for match in rest.matches(of: oneLine) {
            let body = match.output[1].substring ?? (python ? match.output[2].substring : nil)
            if let body {
                texts.append(String(body).replacingOccurrences(of: #"\n"#, with: "\n").replacingOccurrences(of: #"\""#, with: "\"")
                    .replacingOccurrences(of: #"\'"#, with: "'"))
            }
        }
        var mentions = Mentions(texts: texts)
        let table = try Regex(#"^\[\s*([A-Za-z0-9_.\-]+)\s*\]$"#)
        let assignment = try Regex(#"^([A-Za-z0-9_.\-]+)\s*="#)
        for text in texts {
            var current = ""
            for line in text.split(whereSeparator: \.isNewline) {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if let match = trimmed.wholeMatch(of: table), let name = match.output[1].substring {
                    current = String(name)
                } else if let match = trimmed.firstMatch(of: assignment), let name = match.output[1].substring {
                    mentions.fileKeys.insert(current.isEmpty ? String(name) : current + "." + name)
                }
            }
        }
        return mentions
    }

    /// Every Swift and Python source under `Tests/` (symbolic links read once, as their target),
    /// by path from the repository root.
    static func testSources() throws -> [String: String] {
        let tests = root.appendingPathComponent("Tests")
        guard let walker = FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil) else {
            throw TestFailure("cannot list \(tests.path)")
        }
        var sources: [String: String] = [:]
        for case let url as URL in walker where ["swift", "py"].contains(url.pathExtension) {
            let path = url.resolvingSymlinksInPath().path
            guard path.hasPrefix(root.path + "/") else { continue }
            sources[String(path.dropFirst(root.path.count + 1))] = try String(contentsOfFile: path, encoding: .utf8)
        }
        return sources
    }

    /// For each setting, the test sources that set it (the excluded ones left out).
    static func coverage() throws -> [String: [String]] {
        var covered: [String: [String]] = [:]
        for (path, source) in try testSources() where notBehaviourTests[path] == nil {
            let mentions = try mentions(in: source, python: path.hasSuffix(".py"))
            for key in ServerSettings.keys where mentions.sets(key) {
                covered[key.name, default: []].append(path)
            }
        }
        return covered
    }

    // MARK: Tests

    /// The scanner sees flags, variables and file keys in literals, and nothing in comments or code.
    @Test func theScannerFindsSettingsOnlyWhereAServerIsGivenThem() throws {
        let swift = #"""
            // --old-thread-days in a comment, and MARGIN_LINK_DAYS too
            let arguments = ["serve", "--max-headers", "20", "--smtp-password-file", file]
            let environment = ["MARGIN_SMTP_PASSWORD": "x", "name": "MARGIN_DB_EXTRA"]
            let file = "[spam]\nhold = 3\n"
            let other = """
                public_url = "https://example.org"
                [limits]
                max_body = 2048
                """
            let edit_window = 5
            """#
        let found = try Self.mentions(in: swift, python: false)
        let names = Set(ServerSettings.keys.filter(found.sets).map(\.name))
        #expect(names == ["limits.max_headers", "smtp.password_file", "smtp.password", "spam.hold", "public_url", "limits.max_body"],
                "\(names)")
        let python = "# --max-body\nserve('--smtp-insecure')\nconfig = '''\n[mail]\nlink_days = 2\n'''\n"
        #expect(Set(ServerSettings.keys.filter(try Self.mentions(in: python, python: true).sets).map(\.name)) == ["smtp.insecure", "mail.link_days"])
    }

    /// Every setting of the catalogue is set by some behaviour test, or exempted with a reason; the
    /// exemptions name real settings that are really not covered; the excluded files exist.
    @Test func everySettingHasABehaviourTest() throws {
        let sources = try Self.testSources()
        #expect(sources.count >= 40, "found only \(sources.count) test sources under \(Self.root.path)/Tests")
        for path in Self.notBehaviourTests.keys {
            #expect(sources[path] != nil, "\(path) is excluded from the scan but does not exist")
        }
        let covered = try Self.coverage()
        let names = Set(ServerSettings.keys.map(\.name))
        for key in ServerSettings.keys where covered[key.name] == nil && Self.exemptions[key.name] == nil {
            Issue.record("""
                setting '\(key.name)' has no behaviour test: no test source sets \(key.flag.map { "\($0), " } ?? "")\(key.environment) \
                or '\(key.name)' in a configuration file. Write one (SettingsBehaviourTests.swift) or exempt it with a reason.
                """)
        }
        for (name, reason) in Self.exemptions {
            #expect(names.contains(name), "the exemption of '\(name)' (\(reason)) names no setting of the catalogue")
            #expect(!reason.trimmingCharacters(in: .whitespaces).isEmpty, "the exemption of '\(name)' gives no reason")
            if let files = covered[name] {
                Issue.record("'\(name)' is exempted (\(reason)) but set in \(files.sorted().joined(separator: ", ")): drop the exemption")
            }
        }
    }
}
