import Comments
import Testing

/// How a `postgres://` URL becomes a connection: TLS by default off this machine, and a
/// password that can stay out of the URL.
@Suite struct PostgresLocationTests {
    /// Given a URL without `sslmode`, then a host across a network requires TLS and a loopback
    /// host prefers it; an `sslmode` in the URL always wins.
    @Test func sslIsRequiredByDefaultOffThisMachine() throws {
        for host in ["db.example.org", "10.0.0.5", "192.168.1.20", "[2001:db8::1]", "127.example.org"] {
            #expect(try PostgresLocation(url: "postgres://margin@\(host)/margin", environment: [:]).sslMode == .require, "\(host)")
        }
        for host in ["127.0.0.1", "localhost", "LOCALHOST", "127.1.2.3", "[::1]"] {
            #expect(try PostgresLocation(url: "postgres://margin@\(host):5432/margin", environment: [:]).sslMode == .prefer, "\(host)")
        }
        #expect(try PostgresLocation(url: "postgres://margin@db.example.org/margin?sslmode=disable", environment: [:]).sslMode == .disable)
        #expect(try PostgresLocation(url: "postgres://margin@db.example.org/margin?sslmode=prefer", environment: [:]).sslMode == .prefer)
        #expect(try PostgresLocation(url: "postgres://margin@127.0.0.1/margin?sslmode=require", environment: [:]).sslMode == .require)
    }

    /// Given a URL without a password, then `PGPASSWORD` gives it (as libpq does); a password in
    /// the URL wins, and an empty `PGPASSWORD` is none.
    @Test func aURLWithoutPasswordTakesPGPASSWORD() throws {
        let url = "postgres://margin@db.example.org/margin"
        #expect(try PostgresLocation(url: url, environment: ["PGPASSWORD": "from-env"]).password == "from-env")
        #expect(try PostgresLocation(url: url, environment: [:]).password == nil)
        #expect(try PostgresLocation(url: url, environment: ["PGPASSWORD": ""]).password == nil)
        let given = try PostgresLocation(url: "postgres://margin:in-url@db.example.org/margin", environment: ["PGPASSWORD": "from-env"])
        #expect(given.password == "in-url")
        // Logs and messages never show it.
        #expect(given.description == "postgres://margin:***@db.example.org:5432/margin")
    }

    /// Given database texts, then `masked` hides exactly the password of a URL.
    @Test func maskedHidesOnlyThePassword() {
        #expect(PostgresLocation.masked("postgres://u:p%40ss@h:5432/d?sslmode=require") == "postgres://u:********@h:5432/d?sslmode=require")
        #expect(PostgresLocation.masked("postgresql://u:a:b@h/d") == "postgresql://u:********@h/d")
        #expect(PostgresLocation.masked("postgres://u@h/d") == "postgres://u@h/d")
        #expect(PostgresLocation.masked("/var/lib/margin/margin.sqlite") == "/var/lib/margin/margin.sqlite")
        #expect(PostgresLocation.masked("postgres://h/d") == "postgres://h/d")
    }
}
