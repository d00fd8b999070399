/// A plain-text mail, and its RFC 5322 / MIME rendering.
///
/// Every field may hold any text: `rendered()` is what makes it safe. CR, LF and other control
/// characters in header values and addresses become spaces (so no value can start a header of its
/// own), non-ASCII header text becomes RFC 2047 encoded-words, and the body goes out as
/// quoted-printable UTF-8 with lines of at most 76 characters.
public struct MailMessage: Sendable, Equatable {
    /// The sender: a bare address (`margin@blog.example.org`) or one with a display name
    /// (`Margin <margin@blog.example.org>`); the display name may be any Unicode.
    public var from: String
    /// The recipients, each in the same forms as `from`; every one is put in the `To` header and
    /// given to the server as an envelope recipient.
    public var to: [String]
    /// The subject line, any Unicode.
    public var subject: String
    /// The plain-text body, any Unicode, with any line endings (they go out as CRLF).
    public var body: String
    /// Extra headers, in order, such as `List-Unsubscribe` and `List-Unsubscribe-Post`.
    ///
    /// A header whose name is not a valid field name, or that names a header the rendering writes
    /// itself (`Date`, `From`, `To`, `Subject`, `Message-ID`, `MIME-Version`, `Content-Type`,
    /// `Content-Transfer-Encoding`), is left out of the rendering.
    public var headers: [(name: String, value: String)]
    /// The Message-ID without angle brackets (`20260101.abc@blog.example.org`); the initializer
    /// strips brackets if given, and the rendering adds them.
    public var messageID: String
    /// When the message was made, in unix milliseconds (from the caller's clock).
    public var date: Int64

    /// A message; `messageID` may be given with or without angle brackets.
    public init(
        from: String,
        to: [String],
        subject: String,
        body: String,
        headers: [(name: String, value: String)] = [],
        messageID: String,
        date: Int64
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.headers = headers
        self.messageID = MailMessage.bareMessageID(messageID)
        self.date = date
    }

    /// Field-by-field equality (by hand, because tuples of the extra headers are not `Equatable`).
    public static func == (lhs: MailMessage, rhs: MailMessage) -> Bool {
        lhs.from == rhs.from && lhs.to == rhs.to && lhs.subject == rhs.subject && lhs.body == rhs.body
            && lhs.messageID == rhs.messageID && lhs.date == rhs.date
            && lhs.headers.count == rhs.headers.count
            && zip(lhs.headers, rhs.headers).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// The message as RFC 5322 bytes with CRLF line endings: `Date` (UTC), `From`, `To`,
    /// `Subject`, `Message-ID`, the extra headers, then `MIME-Version`, `Content-Type:
    /// text/plain; charset=utf-8` and `Content-Transfer-Encoding: quoted-printable`, a blank line
    /// and the body. Header lines are folded to at most 78 characters where the text allows (never
    /// over 998), body lines are at most 76.
    public func rendered() -> [UInt8] {
        var fields: [String] = []
        fields.append("Date: " + MIMEEncoding.rfc5322Date(millis: date))
        fields.append(MIMEEncoding.addressField(name: "From", addresses: [from]))
        fields.append(MIMEEncoding.addressField(name: "To", addresses: to))
        fields.append(MIMEEncoding.unstructuredField(name: "Subject", value: subject))
        let id = MIMEEncoding.messageIDToken(messageID)
        if !id.isEmpty {
            fields.append(MIMEEncoding.structuredField(name: "Message-ID", value: "<\(id)>"))
        }
        for header in headers {
            let name = header.name.trimmingSpacesAndTabs()
            guard MIMEEncoding.isFieldName(name),
                  !MIMEEncoding.generatedFieldNames.contains(name.lowercased())
            else { continue }
            fields.append(MIMEEncoding.extraField(name: name, value: header.value))
        }
        fields.append("MIME-Version: 1.0")
        fields.append("Content-Type: text/plain; charset=utf-8")
        fields.append("Content-Transfer-Encoding: quoted-printable")

        var out: [UInt8] = []
        for field in fields {
            out.append(contentsOf: field.utf8)
            out.append(contentsOf: MIMEEncoding.crlf)
        }
        out.append(contentsOf: MIMEEncoding.crlf)
        out.append(contentsOf: MIMEEncoding.quotedPrintableBody(body))
        return out
    }

    /// The envelope sender: the bare address of `from`.
    var envelopeSender: String { MailAddress(parsing: from).address }

    /// The envelope recipients: the bare address of each of `to`.
    var envelopeRecipients: [String] { to.map { MailAddress(parsing: $0).address } }

    /// `id` without surrounding whitespace and angle brackets.
    static func bareMessageID(_ id: String) -> String {
        var text = Substring(id.trimmingSpacesAndTabs())
        if text.hasPrefix("<") && text.hasSuffix(">") && text.count >= 2 {
            text = text.dropFirst().dropLast()
        }
        return String(text)
    }
}

/// An address as written in `From`/`To`: an optional display name and the bare address.
struct MailAddress: Equatable {
    /// The display name, empty when there is none.
    var displayName: String
    /// The bare address (`local@domain`) as given, with control characters, spaces and
    /// `<>` removed.
    var address: String

    /// Splits `Name <local@domain>` (or a bare address) into its parts.
    init(parsing text: String) {
        let cleaned = MIMEEncoding.sanitizedHeaderText(text).trimmingSpacesAndTabs()
        if cleaned.hasSuffix(">"), let open = cleaned.lastIndex(of: "<") {
            var name = String(cleaned[..<open]).trimmingSpacesAndTabs()
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
                name = String(name.dropFirst().dropLast())
                    .replacingBackslashEscapes()
            }
            displayName = name
            address = MailAddress.cleanAddress(String(cleaned[cleaned.index(after: open)..<cleaned.index(before: cleaned.endIndex)]))
        } else {
            displayName = ""
            address = MailAddress.cleanAddress(cleaned)
        }
    }

    /// Whether `address` is fit for the envelope and headers: printable ASCII, no spaces or
    /// delimiters, one `@` with text on both sides. Internationalized addresses (SMTPUTF8) are not
    /// supported.
    static func isValidAddress(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard !bytes.isEmpty, bytes.count <= 254,
              let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > 0, at < bytes.count - 1
        else { return false }
        let forbidden = Set("<>()[],;:\\\" ".utf8)
        return bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F && !forbidden.contains($0) }
    }

    /// Whether the text the caller gave is an address that `rendered()` would not have to alter:
    /// no control characters anywhere and a valid bare address.
    static func isAcceptable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { !MIMEEncoding.isControl($0) }
            && isValidAddress(MailAddress(parsing: text).address)
    }

    /// `text` without control characters, spaces and angle brackets.
    private static func cleanAddress(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter {
            !MIMEEncoding.isControl($0) && $0 != " " && $0 != "<" && $0 != ">"
        }))
    }

    /// The address as it goes in a header: `=?UTF-8?B?…?= <a@b>`, `"Name, Inc." <a@b>`,
    /// `Name <a@b>` or `a@b`, as segments that may be folded between.
    var headerSegments: [String] {
        guard !displayName.isEmpty else { return [address] }
        var segments: [String]
        if displayName.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
            if !displayName.contains("=?"),
               displayName.unicodeScalars.allSatisfy({ MIMEEncoding.isAtext($0) || $0 == " " }) {
                segments = displayName.split(separator: " ").map(String.init)
            } else {
                let escaped = displayName.replacingAll("\\", with: "\\\\")
                    .replacingAll("\"", with: "\\\"")
                segments = ["\"\(escaped)\""]
            }
        } else {
            // 70 leaves room for "From: " or "To: " before the first word.
            segments = MIMEEncoding.encodedWords(displayName, firstBudget: 70)
        }
        segments.append("<\(address)>")
        return segments
    }
}
