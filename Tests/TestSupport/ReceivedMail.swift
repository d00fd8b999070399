import Foundation

/// One message as the sink received it.
public struct ReceivedMail: Sendable {
    /// The envelope sender (MAIL FROM).
    public var mailFrom: String
    /// The envelope recipients (RCPT TO) that were accepted.
    public var recipients: [String]
    /// Every header in order, values decoded (RFC 2047) and unfolded by Python's `email` package.
    public var headers: [(name: String, value: String)]
    /// The decoded subject.
    public var subject: String
    /// The decoded body (transfer encoding and charset undone), with CRLF turned into LF.
    public var body: String
    /// The message's bytes as they arrived (after dot-unstuffing).
    public var raw: [UInt8]
    /// Whether the message came over TLS (STARTTLS or implicit).
    public var usedTLS: Bool
    /// The AUTH user, when the client authenticated.
    public var authenticatedUser: String?

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headerValues(name).first
    }

    /// All values of header `name` (case-insensitive), in order.
    public func headerValues(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The raw message's lines, without their CRLF.
    public var rawLines: [String] {
        String(decoding: raw, as: UTF8.self).components(separatedBy: "\r\n")
    }

    /// The JSON the sink writes.
    struct Record: Decodable {
        var mail_from: String
        var rcpt_tos: [String]
        var headers: [[String]]
        var subject: String
        var body: String
        var raw: String
        var tls: Bool
        var auth_login: String?
    }

    /// The mail in a record.
    init(_ record: Record) {
        mailFrom = record.mail_from
        recipients = record.rcpt_tos
        headers = record.headers.compactMap { $0.count == 2 ? (name: $0[0], value: $0[1]) : nil }
        subject = record.subject
        body = record.body
        raw = Data(base64Encoded: record.raw).map { Array($0) } ?? []
        usedTLS = record.tls
        authenticatedUser = record.auth_login
    }
}
