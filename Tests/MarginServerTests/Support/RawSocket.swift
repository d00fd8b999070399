#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TestSupport

/// A plain TCP connection to 127.0.0.1 for tests that must misbehave below HTTP: trickle bytes,
/// sit idle, hold connections open. Every wait has a deadline.
final class RawSocket {
    private var descriptor: Int32

    /// Connects to 127.0.0.1:`port`.
    init(port: Int) throws {
        #if canImport(Glibc)
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw TestFailure("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            systemClose(descriptor)
            throw TestFailure("connect() failed: \(errno)")
        }
    }

    deinit { close() }

    func close() {
        if descriptor >= 0 { systemClose(descriptor) }
        descriptor = -1
    }

    /// Sends the bytes; false when the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { systemSend(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { return false }
            sent += count
        }
        return true
    }

    /// What arrives within `timeout`: the bytes read and whether the server closed the connection.
    /// Polls without blocking and sleeps between polls, so the (small) cooperative thread pool
    /// that runs the server under test is never held up.
    func read(timeout: Duration, untilClosed: Bool = false) async -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 0) > 0 else {
                try? await Task.sleep(for: .milliseconds(10))
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return (received, true) } // orderly close or reset
            received += buffer[..<count]
            if !untilClosed, let length = Self.headLength(received) {
                // A whole head arrived; wait for the body it announces.
                if Self.contentLength(received).map({ received.count - length < $0 }) ?? false { continue }
                return (received, false)
            }
        }
        return (received, false)
    }

    /// Whether the server closes the connection within `timeout` (reading and discarding answers).
    func closedWithin(_ timeout: Duration) async -> Bool {
        await read(timeout: timeout, untilClosed: true).closed
    }

    /// The length of the response head including its blank line, once it has all arrived.
    static func headLength(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for start in 0...(bytes.count - 4) where bytes[start] == 13 && bytes[start + 1] == 10 && bytes[start + 2] == 13 && bytes[start + 3] == 10 {
            return start + 4
        }
        return nil
    }

    static func contentLength(_ bytes: [UInt8]) -> Int? {
        let text = String(decoding: bytes, as: UTF8.self).lowercased()
        guard let range = text.range(of: "content-length: ") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }
}

private func systemClose(_ descriptor: Int32) {
    _ = close(descriptor)
}

private func systemSend(_ descriptor: Int32, _ pointer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    send(descriptor, pointer, count, Int32(MSG_NOSIGNAL))
    #else
    send(descriptor, pointer, count, 0)
    #endif
}
