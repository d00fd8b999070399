import AsyncHTTPClient
import Comments
import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sends one request the careful way: to the address `DestinationGuard` vetted (so the name
/// cannot be re-resolved elsewhere, while TLS still checks the name), with no redirect
/// followed, no proxy, reading at most `HookDelivery.responseLimit` bytes of the answer, all
/// within `timeout`. Each request gets its own client, shut down after it.
enum HookTransport {
    static let userAgent = "Margin-Hooks/1"

    static func send(_ request: HookRequest, allowPrivate: Bool, timeout: Duration) async -> HookResponse {
        await within(timeout, otherwise: .failure("no answer within \(words(timeout))")) {
            await exchange(request, allowPrivate: allowPrivate, timeout: timeout)
        }
    }

    private static func exchange(_ request: HookRequest, allowPrivate: Bool, timeout: Duration) async -> HookResponse {
        // The host exactly as the HTTP client reads it (Foundation's URL, brackets trimmed): the
        // key `dnsOverride` is looked up by.
        guard let url = URL(string: request.url), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              var host = url.host, !host.isEmpty
        else { return .failure("the hook's URL cannot be used") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let addresses: [String]
        do {
            addresses = try await DestinationGuard.vetAll(host: host, allowPrivate: allowPrivate)
        } catch {
            return .failure("\(error)")
        }
        return await send(request, host: host, addresses: addresses, timeout: timeout)
    }

    /// Sends `request` for `host` to each of `addresses` (all vetted already) in turn until one
    /// can be connected to; the answer of the first reached, or the last address's failure.
    /// Each address gets a share of the time to connect, so an unreachable one leaves time
    /// for the next.
    static func send(_ request: HookRequest, host: String, addresses: [String], timeout: Duration) async -> HookResponse {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let shares = Int64(max(1, min(addresses.count, 3)))
        let connectTimeout = TimeAmount.nanoseconds(TimeAmount(timeout).nanoseconds / shares)
        var last = HookResponse.failure("could not connect to \(host)")
        for address in addresses {
            let (response, unreachable) = await exchange(request, host: host, address: address, connectTimeout: connectTimeout,
                                                         readTimeout: TimeAmount(timeout), deadline: deadline)
            guard unreachable else { return response }
            last = response
            if Task.isCancelled || NIODeadline.now() >= deadline { break }
        }
        return last
    }

    /// One request to `address`; `unreachable` when no connection was made (nothing was sent,
    /// so another address may be tried).
    private static func exchange(_ request: HookRequest, host: String, address: String, connectTimeout: TimeAmount,
                                 readTimeout: TimeAmount, deadline: NIODeadline) async -> (HookResponse, unreachable: Bool) {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: connectTimeout, read: readTimeout), proxy: nil)
        if DestinationGuard.literalBytes(host) == nil { configuration.dnsOverride = [host: address] }
        // One connection try per address: the outbox retries, with its own backoff, and a refused
        // connection is reported as such instead of as a timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = request.method == "PUT" ? .PUT : .POST
        outgoing.headers.add(name: "user-agent", value: userAgent)
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        let response: HookResponse
        var unreachable = false
        do {
            let answer = try await client.execute(outgoing, deadline: deadline)
            var bytes: [UInt8] = []
            // Only the start is kept: a receiver cannot make the sender read (or store) more.
            for try await chunk in answer.body {
                bytes += chunk.readableBytesView.prefix(HookDelivery.responseLimit - bytes.count)
                if bytes.count >= HookDelivery.responseLimit { break }
            }
            let status = Int(answer.status.code)
            let text = truncatedText(bytes)
            let retryAfter = answer.headers.first(name: "retry-after").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
            if (200..<300).contains(status) {
                response = HookResponse(status: status, body: text, error: nil)
            } else if (300..<400).contains(status) {
                let location = answer.headers.first(name: "location").map { " to \(String($0.prefix(200)))" } ?? ""
                response = HookResponse(status: status, body: text, error: "HTTP \(status): a redirect\(location), not followed")
            } else {
                response = HookResponse(status: status, body: text, error: "HTTP \(status)", retryAfterSeconds: retryAfter)
            }
        } catch {
            response = .failure(describe(error, host: host, address: address))
            unreachable = notConnected(error)
        }
        try? await client.shutdown()
        return (response, unreachable)
    }

    /// Whether `error` means no connection was made (refused, unreachable, timed out connecting).
    static func notConnected(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPClientError: return error == .connectTimeout
        case is NIOConnectionError: return true
        case let error as IOError: return [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode)
        case let error as ChannelError:
            if case .connectTimeout = error { return true }
            return false
        default: return false
        }
    }

    /// A sentence for a failure to connect or to get an answer.
    static func describe(_ error: any Error, host: String, address: String) -> String {
        let destination = host == address ? host : "\(host) (\(address))"
        switch error {
        case let error as HTTPClientError:
            if error == .connectTimeout { return "could not connect to \(destination) in time" }
            if error == .deadlineExceeded || error == .readTimeout { return "no answer from \(destination) in time" }
            return "\(error.shortDescription) (\(destination))"
        case let error as IOError:
            return "could not connect to \(destination): \(String(cString: strerror(error.errnoCode)))"
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return describe(first.error, host: host, address: address) }
            return "could not connect to \(destination)"
        case is CancellationError:
            return "cancelled"
        default:
            return "\(destination): \(error)"
        }
    }

    /// The bytes as text, a multi-byte character cut at the end dropped rather than garbled.
    static func truncatedText(_ bytes: [UInt8]) -> String {
        var end = bytes.count
        var lead = end - 1
        while lead > 0 && bytes[lead] & 0xC0 == 0x80 && end - lead < 4 { lead -= 1 }
        if lead >= 0 && bytes[lead] >= 0xC0 {
            let length = bytes[lead] >= 0xF0 ? 4 : bytes[lead] >= 0xE0 ? 3 : 2
            if end - lead < length { end = lead }
        }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// `operation`'s result, or `fallback` once `timeout` has passed (the operation is then
    /// cancelled and left to finish on its own: a resolver call cannot be interrupted).
    static func within<T: Sendable>(_ timeout: Duration, otherwise fallback: T, _ operation: @escaping @Sendable () async -> T) async -> T {
        let once = OneShot<T>()
        return await withCheckedContinuation { continuation in
            once.set(continuation)
            let work = Task { await operation() }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled && once.resume(fallback) { work.cancel() }
            }
            Task {
                let value = await work.value
                timer.cancel()
                once.resume(value)
            }
        }
    }

    /// `10 s`, `1.5 s`, `250 ms`.
    static func words(_ duration: Duration) -> String {
        let millis = duration.wholeMilliseconds
        if millis < 1000 { return "\(millis) ms" }
        return millis % 1000 == 0 ? "\(millis / 1000) s" : "\(Double(millis) / 1000) s"
    }
}
