import Foundation
import MarginServer
import TestSupport
import Testing

/// The catalogue (`ServerSettings`) is the one declaration of each setting: names are unique,
/// and what derives from it (the flags of `margin serve`, `ServerConfiguration`'s defaults, the
/// one-setting reads of other commands) follows it.
@Suite struct SettingsCatalogueTests {
    @Test func namesVariablesAndFlagsAreUnique() {
        let keys = ServerSettings.keys
        #expect(Set(keys.map(\.name)).count == keys.count)
        #expect(Set(keys.map(\.environment)).count == keys.count)
        let flags = keys.compactMap(\.flag)
        #expect(Set(flags).count == flags.count)
        for key in keys {
            #expect(key.flag == nil || key.flagHelp?.isEmpty == false, "\(key.name) has a flag without help")
            #expect(key.flag != nil || key.secret, "\(key.name) has no flag but is no secret")
            #expect(key.flagHelp?.contains("{") != true, "\(key.name)'s flag help has a placeholder left: \(key.flagHelp ?? "")")
        }
    }

    /// Settings given nowhere make the configuration `ServerConfiguration()` is: its defaults
    /// are the catalogue's.
    @Test func theDefaultsAreTheCatalogues() throws {
        let configured = try ServerSettings.configuration(from: Settings())
        let plain = ServerConfiguration()
        #expect(configured.host == plain.host && configured.port == plain.port && configured.databasePath == plain.databasePath)
        #expect(configured.editWindowSeconds == plain.editWindowSeconds && configured.spam == plain.spam)
        #expect(configured.rateLimit == plain.rateLimit && configured.voteRateLimit == plain.voteRateLimit)
        #expect(configured.newThreadsPerHour == plain.newThreadsPerHour && configured.linkLifetimeDays == plain.linkLifetimeDays)
        #expect(configured.maxMailsPerRecipientPerDay == plain.maxMailsPerRecipientPerDay)
        #expect(configured.hooksTimeoutSeconds == plain.hooksTimeoutSeconds && configured.hooksFirstRetrySeconds == plain.hooksFirstRetrySeconds)
        #expect(configured.maxBodyBytes == plain.maxBodyBytes && configured.maxURLBytes == plain.maxURLBytes)
        #expect(configured.maxHeaderBytes == plain.maxHeaderBytes && configured.maxHeaderCount == plain.maxHeaderCount)
        #expect(configured.requestTimeoutSeconds == plain.requestTimeoutSeconds && configured.minBodyRate == plain.minBodyRate)
        #expect(configured.maxConnectionsPerIP == plain.maxConnectionsPerIP && configured.shutdownGrace == plain.shutdownGrace)
        #expect(configured.logFormat == plain.logFormat && configured.logLevel == plain.logLevel)
        #expect(configured.smtp == nil && configured.mailFrom == "margin@\(plain.host)")
    }

    /// A command other than `serve` reading one setting: the environment's usable value, else
    /// the file's, else the default; an unusable value is passed over.
    @Test func oneSettingResolvesFromEnvironmentThenFileThenDefault() throws {
        let setting = ServerSettings.editWindow
        let file = try ConfigFile(path: "margin.toml", text: "\(setting.name) = 60\n")
        let variable = setting.key.environment
        #expect(setting.resolved(environment: [variable: "5"], file: file) == 5)
        #expect(setting.resolved(environment: [variable: "-5"], file: file) == 60)
        #expect(setting.resolved(environment: [variable: "soon"], file: nil) == setting.defaultValue)
        #expect(setting.resolved(environment: [:], file: nil) == setting.defaultValue)
    }

    /// Every flag of the catalogue is a flag of `margin serve` and reaches the settings as that
    /// flag (`margin config show` names it as each value's source).
    @Test func everyFlagReachesTheSettings() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("margin-catalogue-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secretFile = directory.appendingPathComponent("secret").path
        try "secret\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
        // A usable value for each setting whose default is none or no value.
        let samples: [String: String] = [
            ServerSettings.db.name: directory.appendingPathComponent("never.sqlite").path,
            ServerSettings.dbPasswordFile.name: secretFile, ServerSettings.smtpPasswordFile.name: secretFile,
            ServerSettings.publicURL.name: "https://comments.example.org", ServerSettings.smtpHost.name: "mail.example.org",
            ServerSettings.smtpPort.name: "2525", ServerSettings.smtpUser.name: "someone", ServerSettings.mailFrom.name: "m@example.org",
            ServerSettings.moderators.name: "mod@example.org", ServerSettings.trustedProxies.name: "10.0.0.0/8",
        ]
        var arguments = ["config", "show"]
        for key in ServerSettings.keys {
            guard let flag = key.flag else { continue }
            arguments.append(flag)
            if key.kind != .boolean { arguments.append(samples[key.name] ?? key.defaultText) }
        }
        let shown = try await CLI.run(arguments)
        #expect(shown.status == 0, "\(shown.stderr)")
        let lines = shown.stdout.split(separator: "\n").map(String.init)
        for key in ServerSettings.keys {
            guard let flag = key.flag else { continue }
            let name = key.name.split(separator: ".").last.map(String.init) ?? key.name
            #expect(lines.contains { $0.hasPrefix("\(name) = ") && $0.hasSuffix("    # \(flag)") }, "\(flag) did not set \(key.name)")
        }
        let help = try await CLI.run(["serve", "--help"])
        for flag in ServerSettings.keys.compactMap(\.flag) {
            #expect(help.stdout.contains("\(flag) "), "margin serve --help lacks \(flag)")
        }
    }
}
