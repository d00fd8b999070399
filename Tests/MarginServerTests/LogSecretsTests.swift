import Comments
import Foundation
import Moderation
import TestSupport
import Testing

/// The real `margin serve` binary at `--log-level trace`, in both log formats, through a flow that
/// handles every kind of secret — commenters' emails, edit tokens, the SMTP password, admin tokens
/// (right and wrong), a moderation link's signature — and then its whole output searched for them.
@Suite(.serialized) struct LogSecretsTests {
    /// Base64 (standard alphabet, padded) of `bytes`.
    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// Forms in which `secret` could show up: as is, percent-encoded, and base64 with and without
    /// padding and in the URL alphabet.
    static func forms(of secret: String) -> [String] {
        let b64 = base64(Array(secret.utf8))
        let unpadded = b64.replacingOccurrences(of: "=", with: "")
        let url = unpadded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let percent = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret
        return Array(Set([secret, percent, b64, unpadded, url].filter { $0.count >= 6 }))
    }

    /// Forms of a binary key: hex and base64 (both alphabets).
    static func forms(ofKey key: [UInt8]) -> [String] {
        let hex = key.map { String(format: "%02x", $0) }.joined()
        let b64 = base64(key)
        let unpadded = b64.replacingOccurrences(of: "=", with: "")
        return [hex, hex.uppercased(), unpadded, unpadded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")]
    }

    @Test(arguments: ["logfmt", "json"])
    func secretsNeverReachTheLog(format: String) async throws {
        let directory = try Scratch()
        defer { directory.remove() }
        let database = directory.path("margin.sqlite")
        let tag = UUID().uuidString.prefix(8).lowercased()
        let smtpUser = "smtp-user-\(tag)"
        let smtpPassword = "Sm7p-pass-\(tag)-Wq9"
        let reader = "reader.\(tag)@example.org"
        let replier = "replier.\(tag)@example.net"
        // The reader's reply notification is refused with a 550 that quotes the address.
        let sink = try await SMTPSink.started(.init(requiredLogin: (username: smtpUser, password: smtpPassword), rejectedRecipients: [reader]))
        defer { sink.close() }
        let passwordFile = directory.path("smtp-password")
        try (smtpPassword + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)

        let created = try await CLI.run(["admin", "token", "create", "log-test", "--db", database])
        #expect(created.status == 0)
        let adminToken = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(adminToken.hasPrefix("mgn_"))
        let wrongAdminToken = String(adminToken.dropLast(6)) + "zzzzzz"

        let server = try await ServeProcess.start(database: database, arguments: [
            "--log-level", "trace", "--log-format", format,
            "--smtp-host", "127.0.0.1", "--smtp-port", String(sink.port), "--smtp-security", "none",
            "--smtp-user", smtpUser, "--smtp-password-file", passwordFile,
            "--moderator", "moderator@example.org", "--notify-all", "--mail-from", "margin@example.org",
            // Posts come without a form timestamp; nothing is to be held for that here.
            "--spam-hold", "50", "--spam-threshold", "100",
        ])
        defer { server.stop() }
        let client = server.client

        let first = try await client.postJSON("/api/v1/comments", [
            "site": "default", "uri": "/secrets/", "author": "Reader", "email": reader, "notify": true, "text": "First comment",
        ])
        #expect(first.status == 201, "\(first.text)")
        let firstID = try #require(first.json.int("id"))
        let firstToken = try #require(first.json["edit_token"] as? String)
        let reply = try await client.postJSON("/api/v1/comments", [
            "site": "default", "uri": "/secrets/", "parent": firstID, "author": "Replier", "email": replier, "text": "A reply",
        ])
        #expect(reply.status == 201, "\(reply.text)")
        let replyToken = try #require(reply.json["edit_token"] as? String)
        // An address the server refuses, quoted in its error answer.
        let badEmail = "not-an-address-\(tag)@@"
        let invalid = try await client.postJSON("/api/v1/comments", [
            "site": "default", "uri": "/secrets/", "email": badEmail, "text": "Bad email",
        ])
        #expect(invalid.status == 422)

        let edited = try await client.postJSON("/api/v1/comments/\(firstID)", ["text": "First comment, edited"], method: "PATCH",
                                               headers: [("Authorization", "Bearer \(firstToken)")])
        #expect(edited.status == 200, "\(edited.text)")
        let refusedEdit = try await client.postJSON("/api/v1/comments/\(firstID)", ["text": "nope"], method: "PATCH",
                                                    headers: [("Authorization", "Bearer \(replyToken)")])
        #expect(refusedEdit.status == 401)

        #expect(try await client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer \(adminToken)")]).status == 200)
        #expect(try await client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer \(wrongAdminToken)")]).status == 401)

        // Moderator mail for both comments; follow one link of the reply's (a page, then the action).
        let mails = try await sink.waitForMessages(count: 2, timeout: .seconds(20))
        let replyMail = try #require(mails.first { $0.body.contains("A reply") })
        let linkRange = try #require(replyMail.body.range(of: #"/moderate/\d+/spam\?\S+"#, options: .regularExpression))
        let link = String(replyMail.body[linkRange])
        #expect(try await client.get(link).status == 200)
        #expect(try await client.send("POST", link).status == 200)
        let query = URLComponents(string: "http://x" + link)?.queryItems ?? []
        let signature = try #require(query.first { $0.name == "sig" }?.value)
        let nonce = try #require(query.first { $0.name == "nonce" }?.value)

        // The refused reply notification has been tried and logged by now, or soon.
        #expect(try await server.waitForLog("not delivered", timeout: .seconds(10)), "the refused notification was never logged")
        #expect(try await server.terminate() == 0)

        let store = try SQLiteStore(path: database)
        let keys = try await store.signingKeys()
        #expect(!keys.isEmpty)
        let formSecret = try await store.secret(named: FormTimestamp.secretName, make: { [] }, at: 0)

        var secrets: [(what: String, value: String)] = []
        for form in Self.forms(of: smtpPassword) { secrets.append(("SMTP password", form)) }
        secrets.append(("AUTH PLAIN", Self.base64([0] + Array(smtpUser.utf8) + [0] + Array(smtpPassword.utf8))))
        for form in Self.forms(of: adminToken) { secrets.append(("admin token", form)) }
        secrets.append(("admin token secret part", String(adminToken.split(separator: "_").last ?? "")))
        secrets.append(("wrong admin token", wrongAdminToken))
        for form in Self.forms(of: reader) + Self.forms(of: replier) { secrets.append(("commenter email", form)) }
        for form in Self.forms(of: firstToken) + Self.forms(of: replyToken) { secrets.append(("edit token", form)) }
        secrets.append(("refused email", badEmail))
        secrets.append(("link signature", signature))
        secrets.append(("link nonce", nonce))
        for key in keys { for form in Self.forms(ofKey: key.secret) { secrets.append(("signing key", form)) } }
        if !formSecret.isEmpty { for form in Self.forms(ofKey: formSecret) { secrets.append(("form secret", form)) } }

        let log = server.log
        for (what, value) in secrets where value.count >= 6 {
            #expect(!log.contains(value), "the log shows the \(what) (\(value))")
        }

        // The log is real: one line per request, in the chosen format, with the route template.
        let lines = log.split(separator: "\n").map(String.init)
        #expect(lines.count >= 10)
        let requestLines = lines.filter { $0.contains("\"msg\":\"request\"") || $0.contains(" msg=request ") }
        #expect(requestLines.count >= 10, "\(log)")
        if format == "json" {
            for line in lines {
                #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "not JSON: \(line)")
            }
            #expect(requestLines.contains { $0.contains(#""route":"/api/v1/comments/{id}""#) && $0.contains(#""status":200"#) })
            #expect(requestLines.allSatisfy { $0.contains(#""request_id":""#) && $0.contains(#""duration_ms":"#) })
        } else {
            #expect(lines.allSatisfy { $0.hasPrefix("ts=") }, "\(log)")
            #expect(requestLines.contains { $0.contains(" method=PATCH ") && $0.contains(" route=/api/v1/comments/{id} ") && $0.hasSuffix(" status=200") })
            #expect(requestLines.allSatisfy { $0.contains(" request_id=") && $0.contains(" duration_ms=") })
        }
        #expect(!log.contains("OutboxSender("), "a service was logged with its settings")
        #expect(log.contains("<email>"), "the refused notification's error should show a redacted address:\n\(log)")
    }

    @Test func logFormatComesFromTheEnvironmentAndBadOnesAreRefused() async throws {
        let directory = try Scratch()
        defer { directory.remove() }
        let database = directory.path("margin.sqlite")
        let server = try await ServeProcess.start(database: database, environment: ["MARGIN_LOG_FORMAT": "json"])
        defer { server.stop() }
        #expect(try await server.client.get("/api/v1/comments?site=default&uri=/env/").status == 200)
        #expect(try await server.terminate() == 0)
        let lines = server.log.split(separator: "\n")
        #expect(lines.count >= 3)
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "not JSON: \(line)")
        }
        #expect(lines.contains { $0.contains(#""route":"/api/v1/comments""#) })

        let refused = try await CLI.run(["serve", "--port", "0", "--db", database, "--log-format", "xml"])
        #expect(refused.status != 0)
    }
}
