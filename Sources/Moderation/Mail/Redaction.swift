/// Keeps readers' email addresses out of log lines: SMTP errors quote the recipient (`RCPT
/// TO:<reader@example.org>`, `550 5.1.1 <reader@example.org>: rejected`).
public enum Redaction {
    /// `text` with every `local@domain` replaced by `<email>`.
    public static func emailAddresses(in text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        guard scalars.contains("@") else { return text }
        func isLocal(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "._%+-!#$&'*/=?^`{|}~".unicodeScalars.contains(scalar)
        }
        func isDomain(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "." || scalar == "-" || scalar == "[" || scalar == "]" || scalar == ":"
        }
        var result = String.UnicodeScalarView()
        var index = 0
        var copied = 0
        while index < scalars.count {
            guard scalars[index] == "@" else { index += 1; continue }
            var start = index
            while start > copied, isLocal(scalars[start - 1]) { start -= 1 }
            var end = index + 1
            while end < scalars.count, isDomain(scalars[end]) { end += 1 }
            if start < index && end > index + 1 {
                result.append(contentsOf: scalars[copied..<start])
                result.append(contentsOf: "<email>".unicodeScalars)
                copied = end
                index = end
            } else {
                index += 1
            }
        }
        result.append(contentsOf: scalars[copied...])
        return String(result)
    }
}
