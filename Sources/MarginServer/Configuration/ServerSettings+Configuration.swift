import Foundation
import Moderation

extension ServerSettings {
    /// The server configuration the merged settings describe: each given value is set by its
    /// setting's `apply`; what counts only together (the spam scores' order, SMTP, the From
    /// address's host) and what names a file to read (passwords) is put together here.
    public static func configuration(from settings: Settings) throws(ConfigurationError) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        for key in settings.keys {
            if let value = settings.value(key.name) { key.apply?(&configuration, value) }
        }
        configuration.databasePassword = try contents(of: dbPasswordFile, in: settings)
        guard configuration.spam.holdScore < configuration.spam.spamScore else {
            throw ConfigurationError(origin: settings.value(spamHold)?.origin ?? settings.value(spamThreshold)?.origin,
                                     key: spamHold.name, message: "must be below \(spamThreshold.name) (\(configuration.spam.spamScore))")
        }
        if let host = settings[smtpHost], !host.isEmpty {
            let security = settings[smtpSecurity]
            let defaultPort = switch security {
            case .startTLS: 587
            case .tls: 465
            case .none: 25
            }
            configuration.smtp = SMTPConfiguration(
                host: host, port: settings[smtpPort] ?? defaultPort, security: security, username: settings[smtpUser],
                password: try contents(of: smtpPasswordFile, in: settings) ?? settings[smtpPassword],
                verifyCertificates: !settings[smtpInsecure])
        }
        if settings.value(mailFrom) == nil { configuration.mailFrom = "margin@\(configuration.host)" }
        return configuration
    }

    /// The trimmed contents of the file a `*_file` setting names; nil when it names none.
    private static func contents(of setting: Setting<String?>, in settings: Settings) throws(ConfigurationError) -> String? {
        guard let file = settings.value(setting), !file.text.isEmpty else { return nil }
        guard let text = try? String(contentsOfFile: file.text, encoding: .utf8) else {
            throw ConfigurationError(origin: file.origin, key: setting.name, message: "cannot read \(file.text)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
