/// Where and how to reach the SMTP server.
public struct SMTPConfiguration: Sendable, Equatable {
    /// How the connection is secured.
    public enum Security: String, Sendable {
        /// Plain text throughout.
        case none
        /// Plain text, upgraded with STARTTLS before anything else is said; a server that does not
        /// offer STARTTLS is an error, never a silent downgrade.
        case startTLS = "starttls"
        /// TLS from the first byte ("implicit TLS", SMTPS, usually port 465).
        case tls
    }

    /// The server's host name or IP address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// How the connection is secured.
    public var security: Security
    /// The user for AUTH; no AUTH when nil.
    public var username: String?
    /// The password for AUTH (empty when nil).
    public var password: String?
    /// The name this client gives in EHLO/HELO.
    public var heloName: String
    /// The limit on connecting and on each command's reply, in seconds.
    public var timeoutSeconds: Int
    /// Whether the server's certificate chain and host name are verified (TLS and STARTTLS).
    public var verifyCertificates: Bool
    /// A PEM file of extra CA certificates to trust, besides the system's.
    public var trustRootsPath: String?

    /// Settings; everything but the host has a default.
    public init(
        host: String,
        port: Int = 25,
        security: Security = .none,
        username: String? = nil,
        password: String? = nil,
        heloName: String = "localhost",
        timeoutSeconds: Int = 30,
        verifyCertificates: Bool = true,
        trustRootsPath: String? = nil
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.heloName = heloName
        self.timeoutSeconds = timeoutSeconds
        self.verifyCertificates = verifyCertificates
        self.trustRootsPath = trustRootsPath
    }
}
