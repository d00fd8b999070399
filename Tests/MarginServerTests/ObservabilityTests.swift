import Comments
import Foundation
import Logging
import MarginServer
import Moderation
import TestSupport
import Testing

/// `/metrics`, `/healthz`, request ids and the line log handler, against the real server.
@Suite struct ObservabilityTests {
    /// One sample of the Prometheus text format.
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// Parses the Prometheus text format (0.0.4) strictly enough to catch a malformed line: every
    /// line is a `# HELP`/`# TYPE` comment or `name{label="value",…} number`, label values are
    /// properly escaped, and each sample belongs to a family declared by a `# TYPE` line before it.
    static func parse(_ text: String) throws -> [Sample] {
        var types: [String: String] = [:]
        var samples: [Sample] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count >= 3, parts[1] == "TYPE" || parts[1] == "HELP" else { throw TestFailure("bad comment line: \(line)") }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw TestFailure("bad TYPE line: \(line)")
                    }
                    types[String(parts[2])] = String(parts[3])
                }
                continue
            }
            var rest = Substring(line)
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
            guard let first = name.first, !first.isNumber, first.isASCII else { throw TestFailure("bad metric name: \(line)") }
            rest = rest.dropFirst(name.count)
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    let label = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
                    guard !label.isEmpty else { throw TestFailure("bad label name: \(line)") }
                    rest = rest.dropFirst(label.count)
                    guard rest.hasPrefix("=\"") else { throw TestFailure("bad label: \(line)") }
                    rest = rest.dropFirst(2)
                    var value = ""
                    while let character = rest.first, character != "\"" {
                        rest = rest.dropFirst()
                        if character == "\\" {
                            guard let escaped = rest.first else { throw TestFailure("bad escape: \(line)") }
                            rest = rest.dropFirst()
                            switch escaped {
                            case "n": value.append("\n")
                            case "\\", "\"": value.append(escaped)
                            default: throw TestFailure("bad escape: \(line)")
                            }
                        } else {
                            value.append(character)
                        }
                    }
                    guard rest.first == "\"" else { throw TestFailure("unterminated label value: \(line)") }
                    rest = rest.dropFirst()
                    labels[String(label)] = value
                    if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { throw TestFailure("bad label list: \(line)") }
                }
                rest = rest.dropFirst()
            }
            guard rest.first == " " else { throw TestFailure("no value: \(line)") }
            let valueText = rest.dropFirst()
            guard let value = Double(valueText) ?? (valueText == "+Inf" ? .infinity : valueText == "-Inf" ? -.infinity : nil) else {
                throw TestFailure("bad value: \(line)")
            }
            let family = ["_bucket", "_sum", "_count"].first { name.hasSuffix($0) && types[String(name.dropLast($0.count))] == "histogram" }
                .map { String(name.dropLast($0.count)) } ?? String(name)
            guard types[family] != nil else { throw TestFailure("sample before its TYPE line: \(line)") }
            samples.append(Sample(name: String(name), labels: labels, value: value))
        }
        return samples
    }

    /// The value of the one sample named `name` with exactly these labels (0 when absent, as
    /// Prometheus treats a counter that was never incremented).
    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.first { $0.name == name && $0.labels == labels }?.value ?? 0
    }

    /// The database file plus its WAL on disk.
    static func bytesOnDisk(_ path: String) -> Int64 {
        [path, path + "-wal"].reduce(0) { total, file in
            total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }

    @Test func metricsCountRequestsByRouteTemplateAndStatus() async throws {
        try await TestServer.with { server in
            let first = try await server.publish("first comment")
            _ = try await server.publish("second comment")
            for _ in 0..<3 { _ = try await server.thread() }
            let edited = try await server.client.postJSON(
                "/api/v1/comments/\(first.id)", ["text": "edited"], method: "PATCH", headers: [("Authorization", "Bearer \(first.token)")])
            #expect(edited.status == 200)
            let wrongToken = try await server.client.postJSON(
                "/api/v1/comments/\(first.id)", ["text": "x"], method: "PATCH", headers: [("Authorization", "Bearer nope")])
            #expect(wrongToken.status == 401)
            #expect(try await server.client.get("/no/such/page").status == 404)
            #expect(try await server.client.get("/api/v1/comments?site=default").status == 422)

            let scrape = try await server.client.get("/metrics")
            #expect(scrape.status == 200)
            #expect(scrape.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let samples = try Self.parse(scrape.text)
            let requests = "margin_http_requests_total"
            #expect(Self.value(samples, requests, ["method": "POST", "route": "/api/v1/comments", "status": "201"]) == 2)
            #expect(Self.value(samples, requests, ["method": "GET", "route": "/api/v1/comments", "status": "200"]) == 3)
            #expect(Self.value(samples, requests, ["method": "GET", "route": "/api/v1/comments", "status": "422"]) == 1)
            #expect(Self.value(samples, requests, ["method": "PATCH", "route": "/api/v1/comments/{id}", "status": "200"]) == 1)
            #expect(Self.value(samples, requests, ["method": "PATCH", "route": "/api/v1/comments/{id}", "status": "401"]) == 1)
            #expect(Self.value(samples, requests, ["method": "GET", "route": "unmatched", "status": "404"]) == 1)
            // Never the raw path: no label value carries a comment id or the unknown page.
            let routes = Set(samples.compactMap { $0.labels["route"] })
            #expect(routes == ["/api/v1/comments", "/api/v1/comments/{id}", "unmatched"], "\(routes)")
            // The scrape counts itself only once it is answered.
            #expect(Self.value(samples, requests, ["method": "GET", "route": "/metrics", "status": "200"]) == 0)

            let duration = "margin_http_request_duration_seconds"
            #expect(Self.value(samples, duration + "_count", ["method": "GET", "route": "/api/v1/comments"]) == 4)
            #expect(Self.value(samples, duration + "_bucket", ["method": "GET", "route": "/api/v1/comments", "le": "+Inf"]) == 4)
            let sum = Self.value(samples, duration + "_sum", ["method": "GET", "route": "/api/v1/comments"])
            #expect(sum > 0 && sum < 20)

            #expect(Self.value(samples, "margin_comments_posted_total", ["status": "approved"]) == 2)
            #expect(Self.value(samples, "margin_comments", ["status": "approved"]) == 2)
            #expect(Self.value(samples, "margin_comments", ["status": "pending"]) == 0)
            #expect(samples.contains { $0.name == "margin_comments" && $0.labels == ["status": "spam"] })
            // Three reads of one thread: the first after the posts misses, the others hit.
            let cache = "margin_thread_cache_requests_total"
            #expect(Self.value(samples, cache, ["result": "miss"]) >= 1)
            #expect(Self.value(samples, cache, ["result": "hit"]) + Self.value(samples, cache, ["result": "revalidated"])
                + Self.value(samples, cache, ["result": "miss"]) + Self.value(samples, cache, ["result": "replayed"]) == 3)
            #expect(Self.value(samples, "margin_mail_outbox_pending") == 0)
            #expect(Self.value(samples, "process_start_time_seconds") > 1_700_000_000)

            let second = try Self.parse(try await server.client.get("/metrics").text)
            #expect(Self.value(second, requests, ["method": "GET", "route": "/metrics", "status": "200"]) == 1)
            #expect(Self.value(second, requests, ["method": "POST", "route": "/api/v1/comments", "status": "201"]) == 2)
        }
    }

    /// A thread someone is reading is encoded again when it gets a comment, before the poster
    /// hears back: the next reader (the poster's widget, reloading) finds the new comment in
    /// memory instead of waiting for the database, in both the first page and a later one.
    @Test func aNewCommentRefreshesTheCachedThreadForItsReaders() async throws {
        try await TestServer.with { server in
            let first = try await server.publish("first", uri: "/read/")
            let firstPage = try await server.thread("/read/")
            let laterPage = try await server.thread("/read/", query: "&after=\(first.id)")
            #expect((firstPage["comments"] as? [Any])?.count == 1)
            #expect((laterPage["comments"] as? [Any])?.count == 0)
            let cache = "margin_thread_cache_requests_total"
            let before = try Self.parse(try await server.client.get("/metrics").text)

            let second = try await server.publish("second", uri: "/read/")
            let reloaded = try await server.thread("/read/")
            let ids = (reloaded["comments"] as? [[String: Any]])?.compactMap { ($0["id"] as? NSNumber)?.int64Value }
            #expect(ids == [first.id, second.id])
            _ = try await server.thread("/read/", query: "&after=\(first.id)")

            let after = try Self.parse(try await server.client.get("/metrics").text)
            #expect(Self.value(after, cache, ["result": "miss"]) == Self.value(before, cache, ["result": "miss"]),
                    "both pages were ready in memory")
            // A thread nobody read is not loaded on posting.
            _ = try await server.publish("elsewhere", uri: "/unread/")
            let last = try Self.parse(try await server.client.get("/metrics").text)
            #expect(Self.value(last, cache, ["result": "miss"]) == Self.value(after, cache, ["result": "miss"]))
        }
    }

    @Test func metricsReportTheOutboxAndTheDatabaseSize() async throws {
        // An SMTP port nobody listens on: mail stays in the outbox, pending, while sending fails.
        let closedPort = try freePort()
        try await TestServer.with(mailTransport: SMTPTransport(configuration: SMTPConfiguration(host: "127.0.0.1", port: closedPort, timeoutSeconds: 2)),
                                  configure: { $0.moderators = ["moderator@example.org"] }) { server in
            var site = try #require(try await server.store.site(id: "default"))
            site.moderation = .all
            try await server.store.updateSite(site)
            for index in 0..<3 {
                let posted = try await server.post(["site": "default", "uri": "/held/", "text": "held comment \(index)"])
                #expect(posted.status == 202)
            }
            let pendingInStore = try await server.store.outbox(limit: 100).filter { $0.sentAt == nil && $0.failedAt == nil }.count
            #expect(pendingInStore == 3)

            let before = Self.bytesOnDisk(server.databasePath)
            let samples = try Self.parse(try await server.client.get("/metrics").text)
            let after = Self.bytesOnDisk(server.databasePath)
            #expect(Self.value(samples, "margin_mail_outbox_pending") == 3)
            #expect(Self.value(samples, "margin_mail_outbox_failed") == 0)
            #expect(Self.value(samples, "margin_comments", ["status": "pending"]) == 3)
            #expect(Self.value(samples, "margin_comments_posted_total", ["status": "pending"]) == 3)
            // Nothing writes now but the checkpointer, which only grows the file: the gauge lies
            // between the sizes on disk just before and just after the scrape.
            let reported = Self.value(samples, "margin_database_size_bytes")
            #expect(before > 4096)
            #expect(Double(before) <= reported && reported <= Double(after), "\(before) ≤ \(reported) ≤ \(after)")
        }
    }

    @Test func healthzChecksTheDatabaseFile() async throws {
        try await TestServer.with { server in
            let healthy = try await server.client.get("/healthz")
            #expect(healthy.status == 200)
            #expect(healthy.json["status"] as? String == "ok")
            #expect(healthy.json["database"] as? String == "ok")
            #expect((healthy.json.int("database_bytes") ?? 0) > 0)
            #expect((healthy.json.int("migrations") ?? 0) > 0)
            #expect(healthy.json.int("uptime_seconds") != nil)

            // The file moved away under the running server: its open connections still answer,
            // but the database is gone for anything that opens it (a restart, the CLI).
            let aside = server.databasePath + ".aside"
            try FileManager.default.moveItem(atPath: server.databasePath, toPath: aside)
            // Past the two seconds /healthz answers from its last check.
            server.clock.advance(seconds: 2)
            let gone = try await server.client.get("/healthz")
            #expect(gone.status == 503)
            #expect(gone.errorCode == "storage_unavailable")
            #expect(gone.header("Content-Type")?.hasPrefix("application/json") == true)
            #expect(gone.header("Retry-After") == "5")

            try FileManager.default.moveItem(atPath: aside, toPath: server.databasePath)
            server.clock.advance(seconds: 2)
            #expect(try await server.client.get("/healthz").status == 200)
        }
    }

    @Test func requestIDsAreEchoedOrMade() async throws {
        try await TestServer.with { server in
            let given = try await server.client.get("/healthz", headers: [("X-Request-Id", "lb-7f3a.2:abc_DEF")])
            #expect(given.header("X-Request-Id") == "lb-7f3a.2:abc_DEF")

            let made1 = try await server.client.get("/healthz")
            let made2 = try await server.client.get("/api/v1/comments?site=default&uri=/x/")
            let id1 = try #require(made1.header("X-Request-Id"))
            let id2 = try #require(made2.header("X-Request-Id"))
            #expect(id1 != id2)
            #expect(id1.count >= 16)

            // Unsafe or overlong ids are replaced, never echoed (they would end up in logs).
            for bad in ["has space", "quote\"d", String(repeating: "a", count: 129), "new\tline", "ünicode"] {
                let answered = try await server.client.get("/healthz", headers: [("X-Request-Id", bad)])
                let id = try #require(answered.header("X-Request-Id"))
                #expect(id != bad)
                #expect(id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            }
            // Errors carry it too.
            let missing = try await server.client.get("/nowhere", headers: [("X-Request-Id", "req-404")])
            #expect(missing.status == 404)
            #expect(missing.header("X-Request-Id") == "req-404")
        }
    }

    /// Reads everything written to a pipe by `body` through a `LineLogHandler`.
    static func captured(_ format: LogFormat, level: Logger.Level = .trace, _ body: (Logger) -> Void) throws -> [String] {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw TestFailure("pipe failed") }
        var logger = Logger(label: "test.label") { label in LineLogHandler(label: label, format: format, descriptor: fds[1]) }
        logger.logLevel = level
        body(logger)
        close(fds[1])
        let data = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    @Test func logfmtLinesAreOneLineAndEscaped() throws {
        let lines = try Self.captured(.logfmt) { logger in
            var logger = logger
            logger[metadataKey: "handler_field"] = "kept"
            logger.info("plain")
            logger.warning("two\nlines \"quoted\" back\\slash", metadata: ["b": "x=y", "a": "1", "weird key": "ünï", "empty": ""])
            logger.trace("traced", metadata: ["list": ["1", "2"]])
            logger.debug("hidden by level?")
        }
        #expect(lines.count == 4)
        let stamp = #/^ts=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z /#
        #expect(lines.allSatisfy { $0.contains(stamp) })
        #expect(lines[0].hasSuffix(" level=info msg=plain logger=test.label handler_field=kept"))
        #expect(lines[1].hasSuffix(#" level=warning msg="two\nlines \"quoted\" back\\slash" logger=test.label a=1 b="x=y" empty="" handler_field=kept weird_key=ünï"#),
                "\(lines[1])")
        #expect(lines[2].contains("level=trace msg=traced"))
        #expect(lines[2].contains(#"list="[1, 2]""#) || lines[2].contains(#"list="[\"1\", \"2\"]""#), "\(lines[2])")
    }

    @Test func jsonLinesParseAsJSON() throws {
        let lines = try Self.captured(.json) { logger in
            logger.error("bad \"thing\"\n\u{1}<tag>", metadata: [
                "nested": ["k": "v", "n": ["1"]], "status": .stringConvertible(201), "ratio": .stringConvertible(0.25), "name": "7",
            ])
            logger.info("second")
        }
        #expect(lines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["msg"] as? String == "bad \"thing\"\n\u{1}<tag>")
        #expect(first["level"] as? String == "error")
        #expect(first["logger"] as? String == "test.label")
        #expect(first["status"] as? Int == 201)
        #expect(first["ratio"] as? Double == 0.25)
        #expect(first["name"] as? String == "7")
        #expect((first["nested"] as? [String: Any])?["k"] as? String == "v")
        #expect(((first["nested"] as? [String: Any])?["n"] as? [String]) == ["1"])
        let ts = try #require(first["ts"] as? String)
        let parsed = try #require(ISO8601DateFormatter.withMilliseconds.date(from: ts))
        #expect(abs(parsed.timeIntervalSinceNow) < 60)
        #expect(lines[0].hasPrefix("{\"ts\":"))
    }
}

extension ISO8601DateFormatter {
    /// `2026-11-29T12:00:00.123Z`.
    static var withMilliseconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
