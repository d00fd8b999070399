import Foundation
import TestSupport
import Testing

/// Margin behind the real nginx and Caddy, configured by the examples in `deploy/` (only ports,
/// certificates and the upstream address substituted): requests pass through, and each
/// reader's own address, not the proxy's and not a forged `X-Forwarded-For`, meets the
/// posting limit.
@Suite(.serialized) struct ReverseProxyTests {
    /// An HTTPS request through the proxy with curl, from the loopback address `source`.
    static func curl(port: Int, source: String, method: String = "GET", path: String, body: String? = nil,
                     forwardedFor: String? = nil) async throws -> (status: Int, body: String) {
        var arguments = ["-sk", "--max-time", "10", "--interface", source, "--resolve", "comments.example.org:\(port):127.0.0.1",
                         "-X", method, "-w", "\n%{http_code}", "https://comments.example.org:\(port)\(path)"]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        if let forwardedFor { arguments += ["-H", "X-Forwarded-For: \(forwardedFor)"] }
        let result = try await Tool.run("curl", arguments)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// SIGTERM, then SIGKILL if the proxy is still there after two seconds (nginx without a
    /// master process may not act on SIGTERM at once).
    static func stop(_ process: ChildProcess) {
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<40 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    static func comment(_ text: String) -> String {
        #"{"site":"default","uri":"/behind-a-proxy/","author":"Reader","text":"\#(text)"}"#
    }

    /// A self-signed certificate for comments.example.org.
    static func certificate(in directory: URL) async throws -> (certificate: String, key: String) {
        let certificate = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
        let result = try await Tool.run("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=comments.example.org", "-addext", "subjectAltName=DNS:comments.example.org", "-keyout", key, "-out", certificate,
        ])
        try #require(result.status == 0, "\(result.stderr)")
        return (certificate, key)
    }

    /// Starts margin (trusting 127.0.0.1, one comment a minute per reader) and the proxy made by
    /// `startProxy(marginPort, proxyPort)`; checks what readers see through it.
    static func checkThroughProxy(_ startProxy: (Int, Int, Scratch) async throws -> ChildProcess) async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let marginPort = try freePort()
        let arguments = ["serve", "--port", String(marginPort), "--db", scratch.database, "--trusted-proxy", "127.0.0.1", "--rate-limit", "1/min"]
        try await ServeCommandTests.withServer(arguments: arguments, environment: [:], port: marginPort) {
            let proxyPort = try freePort()
            let proxy = try await startProxy(marginPort, proxyPort, scratch)
            defer { stop(proxy) }
            var ready = false
            // Up to 30 s: under the full parallel test run Caddy once took more than 10 s to start.
            for _ in 0..<300 where !ready {
                if (try? await curl(port: proxyPort, source: "127.0.1.2", path: "/healthz").status) == 200 { ready = true } else { try await Task.sleep(for: .milliseconds(100)) }
            }
            try #require(ready, "the proxy did not pass /healthz through")

            let first = try await curl(port: proxyPort, source: "127.0.1.2", method: "POST", path: "/api/v1/comments", body: comment("First, through the proxy."))
            #expect([201, 202].contains(first.status), "\(first)")
            // A forged header does not make the same reader someone else.
            let forged = try await curl(port: proxyPort, source: "127.0.1.2", method: "POST", path: "/api/v1/comments",
                                  body: comment("Second, forged."), forwardedFor: "203.0.113.77")
            #expect(forged.status == 429, "\(forged)")
            // Another reader behind the same proxy has a quota of their own.
            let other = try await curl(port: proxyPort, source: "127.0.2.3", method: "POST", path: "/api/v1/comments", body: comment("From a second reader."))
            #expect([201, 202].contains(other.status), "\(other)")
            let thread = try await curl(port: proxyPort, source: "127.0.2.3", path: "/api/v1/comments?site=default&uri=/behind-a-proxy/")
            #expect(thread.status == 200)
        }
    }

    @Test func behindNginx() async throws {
        try await Self.checkThroughProxy { marginPort, proxyPort, scratch in
            let (certificate, key) = try await Self.certificate(in: scratch.url)
            let example = try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("deploy/nginx.conf"), encoding: .utf8)
            let site = example
                .replacingOccurrences(of: "server 127.0.0.1:8080;", with: "server 127.0.0.1:\(marginPort);")
                .replacingOccurrences(of: "listen 443 ssl http2;", with: "listen 127.0.0.1:\(proxyPort) ssl http2;")
                .replacingOccurrences(of: "/etc/letsencrypt/live/comments.example.org/fullchain.pem", with: certificate)
                .replacingOccurrences(of: "/etc/letsencrypt/live/comments.example.org/privkey.pem", with: key)
            try #require(site.contains(String(marginPort)) && site.contains(String(proxyPort)) && site.contains(certificate), "deploy/nginx.conf changed shape")
            let root = scratch.url.path
            try site.write(toFile: root + "/site.conf", atomically: true, encoding: .utf8)
            try """
            daemon off;
            master_process off;
            pid \(root)/nginx.pid;
            error_log \(root)/error.log;
            events {}
            http {
                access_log off;
                client_body_temp_path \(root)/body;
                proxy_temp_path \(root)/proxy;
                fastcgi_temp_path \(root)/fastcgi;
                uwsgi_temp_path \(root)/uwsgi;
                scgi_temp_path \(root)/scgi;
                include \(root)/site.conf;
            }
            """.write(toFile: root + "/nginx.conf", atomically: true, encoding: .utf8)
            let process = ChildProcess()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
            process.arguments = ["-e", root + "/error.log", "-p", root, "-c", root + "/nginx.conf"]
            try process.run()
            return process
        }
    }

    @Test func behindCaddy() async throws {
        try await Self.checkThroughProxy { marginPort, proxyPort, scratch in
            let example = try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("deploy/Caddyfile"), encoding: .utf8)
            let httpPort = try freePort()
            // No ACME offline: Caddy's own CA signs the certificate; nothing is installed system-wide.
            let site = example
                .replacingOccurrences(of: "comments.example.org {", with: "comments.example.org:\(proxyPort) {\n\ttls internal")
                .replacingOccurrences(of: "reverse_proxy 127.0.0.1:8080", with: "reverse_proxy 127.0.0.1:\(marginPort)")
            try #require(site.contains(String(marginPort)) && site.contains(String(proxyPort)), "deploy/Caddyfile changed shape")
            let root = scratch.url.path
            let file = root + "/Caddyfile"
            try "{\n\tadmin off\n\tskip_install_trust\n\thttp_port \(httpPort)\n\thttps_port \(proxyPort)\n}\n\n\(site)"
                .write(toFile: file, atomically: true, encoding: .utf8)
            let process = ChildProcess()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/caddy")
            process.arguments = ["run", "--config", file, "--adapter", "caddyfile"]
            process.environment = ["HOME": root, "XDG_DATA_HOME": root + "/data", "XDG_CONFIG_HOME": root + "/config", "PATH": "/usr/bin:/bin"]
            let log = FileHandle(forWritingAtPath: "/dev/null")
            process.standardOutput = log
            process.standardError = log
            try process.run()
            return process
        }
    }
}
