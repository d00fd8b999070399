import Moderation
import TestSupport

/// The sink as Moderation's mail sender sees it; apart from TestSupport, which links none of the
/// server's modules.
extension SMTPSink {
    /// A configuration that reaches this sink: the security that matches its TLS mode unless
    /// given, certificates unverified unless asked (the sink's are self-signed), short timeouts.
    public func configuration(
        security: SMTPConfiguration.Security? = nil,
        username: String? = nil,
        password: String? = nil,
        verifyCertificates: Bool = false,
        trustRootsPath: String? = nil,
        timeoutSeconds: Int = 10
    ) -> SMTPConfiguration {
        let matching: SMTPConfiguration.Security
        switch options.tls {
        case .none: matching = .none
        case .startTLS: matching = .startTLS
        case .implicit: matching = .tls
        }
        return SMTPConfiguration(
            host: host, port: port, security: security ?? matching, username: username, password: password,
            heloName: "margin.test", timeoutSeconds: timeoutSeconds, verifyCertificates: verifyCertificates,
            trustRootsPath: trustRootsPath)
    }
}
