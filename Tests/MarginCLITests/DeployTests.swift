import Foundation
import TestSupport
import Testing

/// `deploy/margin.service` as systemd itself judges it.
@Suite struct DeployTests {
    static let unit = TestEnvironment.repositoryRoot.appendingPathComponent("deploy/margin.service")

    @Test func theUnitIsValidAndHardened() async throws {
        // verify checks every directive and that ExecStart runs something: point it at the built binary.
        let scratch = try Scratch()
        defer { scratch.remove() }
        let text = try String(contentsOf: Self.unit, encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/local/bin/margin serve\n"))
        let copy = scratch.url.appendingPathComponent("margin.service")
        try text.replacingOccurrences(of: "ExecStart=/usr/local/bin/margin", with: "ExecStart=\(CLI.executable.path)")
            .write(to: copy, atomically: true, encoding: .utf8)
        let verify = try await Tool.run("systemd-analyze", ["verify", "--man=no", copy.path])
        #expect(verify.status == 0 && !verify.stderr.contains("margin.service"), "\(verify.stderr)")

        // systemd's own exposure score: 0.0 is fully locked down, 10.0 unprotected; --threshold counts tenths.
        let security = try await Tool.run("systemd-analyze", ["security", "--offline=yes", "--threshold=12", Self.unit.path])
        #expect(security.status == 0, "\(security.stdout.suffix(400))")
        let overall = security.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") }
        let score = overall.flatMap { line in line.split(separator: " ").compactMap { Double($0) }.first }
        // README promises 1.2: hold the unit to exactly that.
        #expect(score.map { $0 <= 1.2 } == true, "\(overall ?? "no score")")
        for directive in ["NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/margin", "User=margin", "KillSignal=SIGTERM"] {
            #expect(text.contains(directive + "\n"), "\(directive)")
        }
    }
}
