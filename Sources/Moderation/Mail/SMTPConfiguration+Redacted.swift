/// The password never appears when the settings are printed, logged or dumped (`"\(smtp)"`,
/// `String(reflecting:)`, or inside a printed `ServerConfiguration`).
extension SMTPConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "SMTPConfiguration(host: \(host), port: \(port), security: \(security.rawValue), username: \(username ?? "nil"), "
            + "password: \(password == nil ? "nil" : "<redacted>"), heloName: \(heloName), timeoutSeconds: \(timeoutSeconds), "
            + "verifyCertificates: \(verifyCertificates), trustRootsPath: \(trustRootsPath ?? "nil"))"
    }

    public var debugDescription: String { description }

    /// What `dump` and the default printing of a containing value show: every field, the
    /// password only as `<redacted>`.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "host": host, "port": port, "security": security, "username": username as Any,
            "password": password == nil ? "nil" : "<redacted>", "heloName": heloName, "timeoutSeconds": timeoutSeconds,
            "verifyCertificates": verifyCertificates, "trustRootsPath": trustRootsPath as Any,
        ], displayStyle: .struct)
    }
}
