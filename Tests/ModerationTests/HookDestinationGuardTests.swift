import Comments
import Testing
@testable import Moderation

/// Which destinations hooks may reach: every non-public range is refused by its kind, before
/// and after name resolution, unless the hook allows private addresses.
@Suite struct HookDestinationGuardTests {
    static let refused: [(String, String)] = [
        ("127.0.0.1", "a loopback address"), ("127.255.3.4", "a loopback address"), ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"), ("172.16.0.1", "a private address"), ("172.31.255.254", "a private address"),
        ("192.168.1.1", "a private address"), ("fc00::1", "a private address"), ("fd12:3456::1", "a private address"),
        ("169.254.1.1", "a link-local address"), ("fe80::1", "a link-local address"),
        ("169.254.169.254", "a cloud metadata address"), ("fd00:ec2::254", "a cloud metadata address"),
        ("0.0.0.0", "an unspecified address"), ("0.1.2.3", "an unspecified address"), ("::", "an unspecified address"),
        ("100.64.0.1", "a carrier-grade NAT address"), ("100.127.255.254", "a carrier-grade NAT address"),
        ("224.0.0.1", "a multicast address"), ("239.255.255.250", "a multicast address"), ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"), ("255.255.255.255", "a broadcast address"),
        // The rest of the IANA special-purpose registries' ranges that are not globally reachable.
        ("192.0.0.8", "a reserved address"), ("192.0.0.170", "a reserved address"), ("192.0.2.1", "a documentation address"),
        ("198.51.100.7", "a documentation address"), ("203.0.113.9", "a documentation address"),
        ("198.18.0.1", "a benchmarking address"), ("198.19.255.254", "a benchmarking address"), ("192.88.99.1", "a reserved address"),
        ("64:ff9b:1::1", "a local-use NAT64 address"), ("64:ff9b:1:ffff::a00:1", "a local-use NAT64 address"),
        ("::ffff:0:808:808", "an IPv4-translated address"), ("::ffff:0:7f00:1", "an IPv4-translated address"),
        ("2001::1", "a Teredo address"), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "a Teredo address"),
        ("2001:db8::1", "a documentation address"), ("3fff::1", "a documentation address"),
        ("2001:2::1", "a benchmarking address"), ("2001:10::1", "a reserved address"), ("5f00::1", "a reserved address"),
        ("100::1", "a discard-only address"), ("100:0:0:1::1", "a discard-only address"),
    ]

    @Test(arguments: refused)
    func everyNonPublicRangeIsRefusedByItsKind(address: String, kind: String) async throws {
        let bytes = try #require(DestinationGuard.literalBytes(address))
        #expect(DestinationGuard.refusal(for: bytes) == kind)
        await #expect(throws: HookError.destinationRefused("\(address) is \(kind); \(DestinationGuard.allowHint)")) {
            try await DestinationGuard.vet(host: address, allowPrivate: false)
        }
        #expect(try await DestinationGuard.vet(host: address, allowPrivate: true) == address)
    }

    @Test(arguments: [
        ("::ffff:127.0.0.1", "a loopback address"), ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:169.254.169.254", "a cloud metadata address"), ("64:ff9b::7f00:1", "a loopback address"),
        ("64:ff9b::a9fe:a9fe", "a cloud metadata address"), ("2002:7f00:1::1", "a loopback address"),
        ("::127.0.0.1", "a loopback address"), ("2002:a00:1::1", "a private address"), ("2002:c0a8:101::1", "a private address"),
    ])
    func ipv6FormsOfIPv4AddressesAreJudgedByTheAddressInside(address: String, kind: String) throws {
        let bytes = try #require(DestinationGuard.literalBytes(address))
        let refusal = try #require(DestinationGuard.refusal(for: bytes))
        #expect(refusal.hasPrefix(kind), "\(refusal)")
    }

    @Test(arguments: ["93.184.215.14", "8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "192.169.0.1", "2606:4700:4700::1111",
                      "::ffff:8.8.8.8", "64:ff9b::808:808", "2001:4860:4860::8888",
                      "2002:808:808::1", "192.0.1.1", "192.0.3.1", "198.17.255.1", "198.20.0.1", "203.0.114.1", "2001:db9::1", "2001:200::1",
                      "101::1", "3fff:1000::1"])
    func publicAddressesPass(address: String) async throws {
        let bytes = try #require(DestinationGuard.literalBytes(address))
        #expect(DestinationGuard.refusal(for: bytes) == nil)
        #expect(try await DestinationGuard.vet(host: address, allowPrivate: false) == address)
    }

    @Test func everyAddressOfANameIsVettedAndGivenInTheResolversOrder() async throws {
        let addresses = try await DestinationGuard.vetAll(host: "localhost", allowPrivate: true)
        #expect(addresses.contains("127.0.0.1") && Set(addresses).count == addresses.count)
        #expect(try await DestinationGuard.vet(host: "localhost", allowPrivate: true) == addresses[0])
        #expect(try await DestinationGuard.vetAll(host: "[::1]", allowPrivate: true) == ["::1"])
    }

    @Test func whenTheFirstAddressCannotBeReachedTheNextIsTried() async throws {
        let listener = try await HookListener.started()
        defer { Task { await listener.close() } }
        // Generous deadlines: a refused connection is instant, but under load the test measures the
        // machine. A name with two vetted addresses, the first refusing connections (nothing listens on
        // 127.0.0.2), as `localhost` giving ::1 first would with a receiver on 127.0.0.1 only.
        let request = HookRequest(url: "http://receiver.test:\(listener.port)/in", body: Array("{}".utf8))
        let response = await HookTransport.send(request, host: "receiver.test", addresses: ["127.0.0.2", "127.0.0.1"], timeout: .seconds(60))
        #expect(response.error == nil && response.status == 200, "\(response)")
        #expect(listener.requests.count == 1 && listener.requests.first?.headers["host"] == "receiver.test:\(listener.port)")
        // An answer, even a failing one, is not a reason to try another address.
        listener.answer(.init(status: 500))
        let failed = await HookTransport.send(request, host: "receiver.test", addresses: ["127.0.0.1", "127.0.0.1"], timeout: .seconds(60))
        #expect(failed.status == 500 && listener.requests.count == 2)
        // When none can be reached, the failure names the last.
        let none = await HookTransport.send(request, host: "receiver.test", addresses: ["127.0.0.2", "127.0.0.3"], timeout: .seconds(60))
        #expect(none.error?.contains("receiver.test (127.0.0.3)") == true, "\(none)")
    }

    @Test func bracketedIPv6LiteralsAreReadAsTheAddress() async {
        await #expect(throws: HookError.self) { try await DestinationGuard.vet(host: "[::1]", allowPrivate: false) }
    }

    @Test func aNameIsJudgedByWhatItResolvesToAndTheMessageNamesBoth() async throws {
        do {
            _ = try await DestinationGuard.vet(host: "localhost", allowPrivate: false)
            Issue.record("localhost was let through")
        } catch let HookError.destinationRefused(message) {
            #expect(message.hasPrefix("localhost resolves to "), "\(message)")
            #expect(message.contains("a loopback address"), "\(message)")
            #expect(message.hasSuffix("create the hook with --allow-private (API: allow_private) to send there"))
        }
        let address = try await DestinationGuard.vet(host: "localhost", allowPrivate: true)
        #expect(address == "127.0.0.1" || address == "::1")
    }

    @Test func shorthandIPv4FormsAreResolvedAndRefusedLikeTheAddressTheyMean() async {
        // Not literals to inet_pton, but getaddrinfo (and so any HTTP client) reads them as 127.0.0.1.
        for host in ["127.1", "0x7f.1", "2130706433"] {
            #expect(DestinationGuard.literalBytes(host) == nil)
            await #expect(throws: HookError.self, "\(host)") { try await DestinationGuard.vet(host: host, allowPrivate: false) }
        }
    }

    @Test func aNameThatDoesNotResolveIsNotARefusal() async {
        await #expect(throws: DestinationGuard.Unresolved.self) {
            try await DestinationGuard.vet(host: "no-such-host.invalid", allowPrivate: false)
        }
    }
}
