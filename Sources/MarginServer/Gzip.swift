import CZlib

/// gzip for responses (RFC 1952, through the system zlib), and which requests may have it.
enum Gzip {
    /// Bodies smaller than this go out as they are: the gzip header and trailer alone are 18
    /// bytes, and little text this short compresses.
    static let minimumBytes = 1_024

    /// `bytes` compressed as one gzip member (zlib's default level 6); nil only if zlib fails.
    static func compress(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        var stream = z_stream()
        guard czlib_deflate_init_gzip(&stream, Z_DEFAULT_COMPRESSION) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))))
        let status = output.withUnsafeMutableBytes { out -> Int32 in
            stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(bytes.count)
            stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(out.count)
            // deflateBound leaves room for everything, so one call with Z_FINISH ends the stream.
            return deflate(&stream, Z_FINISH)
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Whether an `Accept-Encoding` header accepts gzip: `gzip`, `x-gzip` or `*`, unless its
    /// quality is 0 (RFC 9110 §12.5.3). No header means no compression.
    static func isAccepted(by header: String?) -> Bool {
        guard let header else { return false }
        var gzip: Bool?, wildcard: Bool?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";")
            guard let coding = parts.first?.trimmingASCIISpaces.lowercased() else { continue }
            let quality = parts.dropFirst().lazy.map(\.trimmingASCIISpaces).first { $0.lowercased().hasPrefix("q=") }
            let accepted = quality.map { Double($0.dropFirst(2)).map { $0 > 0 } ?? false } ?? true
            if coding == "gzip" || coding == "x-gzip" { gzip = accepted }
            if coding == "*" { wildcard = accepted }
        }
        return gzip ?? wildcard ?? false
    }
}
