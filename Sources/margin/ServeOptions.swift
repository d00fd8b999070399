import ArgumentParser
import MarginServer

/// The flags of `margin serve` (also taken by `margin config show`, which prints what they
/// would make): one for each setting of the catalogue (`ServerSettings`) that has a flag, named
/// and explained there; `DatabaseOptions` holds `--db` and `--db-password-file`. The order here
/// is the order of `margin serve --help`.
struct ServeOptions: ParsableArguments {
    @Option(ServerSettings.host) var host: String?
    @Option(ServerSettings.port) var port: String?
    @Option(ServerSettings.publicURL) var publicURL: String?
    @Option(ServerSettings.editWindow) var editWindow: String?
    @Option(ServerSettings.rateLimit) var rateLimit: String?
    @Option(ServerSettings.voteRateLimit) var voteRateLimit: String?
    @Option(ServerSettings.newThreadsPerHour) var newThreadsPerHour: String?
    @Option(ServerSettings.spamHold) var spamHold: String?
    @Option(ServerSettings.spamThreshold) var spamThreshold: String?
    @Option(ServerSettings.oldThreadDays) var oldThreadDays: String?
    @Option(ServerSettings.formMaxAgeHours) var formMaxAgeHours: String?
    @Option(ServerSettings.smtpHost) var smtpHost: String?
    @Option(ServerSettings.smtpPort) var smtpPort: String?
    @Option(ServerSettings.smtpSecurity) var smtpSecurity: String?
    @Option(ServerSettings.smtpUser) var smtpUser: String?
    @Option(ServerSettings.smtpPasswordFile) var smtpPasswordFile: String?
    @Flag(ServerSettings.smtpInsecure) var smtpInsecure = false
    @Option(ServerSettings.mailFrom) var mailFrom: String?
    @Option(ServerSettings.moderators) var moderators: [String] = []
    @Flag(ServerSettings.notifyAll) var notifyAll = false
    @Option(ServerSettings.linkDays) var linkDays: String?
    @Option(ServerSettings.mailMaxPerRecipientPerDay) var mailMaxPerRecipientPerDay: String?
    @Option(ServerSettings.hooksTimeout) var hooksTimeout: String?
    @Option(ServerSettings.hooksFirstRetry) var hooksFirstRetry: String?
    @Option(ServerSettings.shutdownGrace) var shutdownGrace: String?
    @Option(ServerSettings.logLevel) var logLevel: String?
    @Option(ServerSettings.logFormat) var logFormat: String?
    @Option(ServerSettings.trustedProxies) var trustedProxies: [String] = []
    @Option(ServerSettings.maxBody) var maxBody: String?
    @Option(ServerSettings.maxURL) var maxURL: String?
    @Option(ServerSettings.maxHeaderBytes) var maxHeaderBytes: String?
    @Option(ServerSettings.maxHeaders) var maxHeaders: String?
    @Option(ServerSettings.requestTimeout) var requestTimeout: String?
    @Option(ServerSettings.minBodyRate) var minBodyRate: String?
    @Option(ServerSettings.maxConnectionsPerIP) var maxConnectionsPerIP: String?

    /// What each flag was given, by its setting: a text, the texts of a repeated flag, or `true`
    /// for a switch; nothing when it was not given.
    private func given(database: DatabaseOptions) -> [(SettingKey, [String])] {
        typealias S = ServerSettings
        func text(_ text: String?) -> [String] { text.map { [$0] } ?? [] }
        func on(_ flag: Bool) -> [String] { flag ? ["true"] : [] }
        return [
            (S.db.key, text(database.db)), (S.dbPasswordFile.key, text(database.dbPasswordFile)),
            (S.host.key, text(host)), (S.port.key, text(port)), (S.publicURL.key, text(publicURL)),
            (S.editWindow.key, text(editWindow)), (S.rateLimit.key, text(rateLimit)), (S.voteRateLimit.key, text(voteRateLimit)),
            (S.newThreadsPerHour.key, text(newThreadsPerHour)), (S.spamHold.key, text(spamHold)),
            (S.spamThreshold.key, text(spamThreshold)), (S.oldThreadDays.key, text(oldThreadDays)),
            (S.formMaxAgeHours.key, text(formMaxAgeHours)), (S.smtpHost.key, text(smtpHost)), (S.smtpPort.key, text(smtpPort)),
            (S.smtpSecurity.key, text(smtpSecurity)), (S.smtpUser.key, text(smtpUser)),
            (S.smtpPasswordFile.key, text(smtpPasswordFile)), (S.smtpInsecure.key, on(smtpInsecure)),
            (S.mailFrom.key, text(mailFrom)), (S.moderators.key, moderators), (S.notifyAll.key, on(notifyAll)),
            (S.linkDays.key, text(linkDays)), (S.mailMaxPerRecipientPerDay.key, text(mailMaxPerRecipientPerDay)),
            (S.hooksTimeout.key, text(hooksTimeout)), (S.hooksFirstRetry.key, text(hooksFirstRetry)),
            (S.shutdownGrace.key, text(shutdownGrace)), (S.logLevel.key, text(logLevel)), (S.logFormat.key, text(logFormat)),
            (S.trustedProxies.key, trustedProxies), (S.maxBody.key, text(maxBody)), (S.maxURL.key, text(maxURL)),
            (S.maxHeaderBytes.key, text(maxHeaderBytes)), (S.maxHeaders.key, text(maxHeaders)),
            (S.requestTimeout.key, text(requestTimeout)), (S.minBodyRate.key, text(minBodyRate)),
            (S.maxConnectionsPerIP.key, text(maxConnectionsPerIP)),
        ]
    }

    /// The flags given, by setting name.
    func values(database: DatabaseOptions) -> [String: SettingValue] {
        var values: [String: SettingValue] = [:]
        for (key, texts) in given(database: database) where !texts.isEmpty {
            guard let flag = key.flag else { continue }
            values[key.name] = key.kind == .list ? SettingValue(list: texts, origin: .flag(flag)) : SettingValue(text: texts[0], origin: .flag(flag))
        }
        return values
    }
}
