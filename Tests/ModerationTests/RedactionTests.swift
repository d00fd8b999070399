import Moderation
import Testing

/// Email addresses taken out of text bound for the log.
@Suite struct RedactionTests {
    @Test func addressesInSMTPErrorsAreReplaced() {
        let error = "127.0.0.1:2525 answered RCPT TO:<reader.name+tag@mail.example.org> with 550 5.1.1 <reader.name+tag@mail.example.org>: recipient rejected"
        #expect(Redaction.emailAddresses(in: error)
            == "127.0.0.1:2525 answered RCPT TO:<<email>> with 550 5.1.1 <<email>>: recipient rejected")
        #expect(Redaction.emailAddresses(in: "invalid recipient address \"o'brien@x.org\"") == "invalid recipient address \"<email>\"")
        #expect(Redaction.emailAddresses(in: "to jürgen@bücher.de and a@b") == "to <email> and <email>")
    }

    @Test func textWithoutAddressesIsKept() {
        for text in ["", "no at sign", "a lone @ sign", "@start", "end@", "x @ y", "connection refused (errno 111)"] {
            #expect(Redaction.emailAddresses(in: text) == text)
        }
    }
}
