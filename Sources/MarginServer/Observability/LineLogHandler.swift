import Comments
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How `margin serve` writes its log lines (`--log-format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// `key=value` pairs, values quoted when they need it (https://brandur.org/logfmt).
    case logfmt
    /// One JSON object per line.
    case json
}

/// A swift-log handler that writes each event as exactly one line, in logfmt or JSON, to a file
/// descriptor (standard error by default) with a single `write`, so lines from concurrent
/// requests never interleave. Fields come in a fixed order: `ts`, `level`, `msg`, `logger`, then
/// the metadata sorted by key, then `error` when the event carries one.
///
/// The line is built straight into bytes: no Foundation date formatter and no `JSONEncoder` per
/// line (the request log writes one per request on the hot path).
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info

    /// The logger's label, written as the `logger` field.
    let label: String
    let format: LogFormat
    /// Where the lines go.
    let descriptor: Int32

    /// A handler for `label` writing `format` lines to `descriptor` (standard error by default).
    public init(label: String, format: LogFormat, descriptor: Int32 = 2, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.format = format
        self.descriptor = descriptor
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: Logger.Metadata
        if metadata.isEmpty && metadataProvider == nil {
            // The request line's case: no merging, no copy.
            fields = event.metadata ?? [:]
        } else {
            fields = metadata
            if let provided = metadataProvider?.get(), !provided.isEmpty {
                fields.merge(provided) { _, new in new }
            }
            if let own = event.metadata, !own.isEmpty {
                fields.merge(own) { _, new in new }
            }
        }
        let line = Self.line(
            format: format, timestamp: Self.now(), level: event.level, message: event.message.description, label: label,
            metadata: fields, error: event.error.map { String(describing: $0) })
        line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// The current wall-clock time as milliseconds since 1970.
    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// One complete line, newline included.
    static func line(
        format: LogFormat, timestamp: Int64, level: Logger.Level, message: String, label: String,
        metadata: Logger.Metadata, error: String?
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + message.utf8.count)
        let keys = metadata.keys.sorted()
        switch format {
        case .logfmt:
            out.append(contentsOf: "ts=".utf8)
            appendTimestamp(timestamp, to: &out)
            out.append(contentsOf: " level=".utf8)
            out.append(contentsOf: level.rawValue.utf8)
            out.append(contentsOf: " msg=".utf8)
            appendLogfmtValue(message, to: &out)
            out.append(contentsOf: " logger=".utf8)
            appendLogfmtValue(label, to: &out)
            for key in keys {
                out.append(UInt8(ascii: " "))
                appendLogfmtKey(key, to: &out)
                out.append(UInt8(ascii: "="))
                appendLogfmtValue(flat(metadata[key]!), to: &out)
            }
            if let error {
                out.append(contentsOf: " error=".utf8)
                appendLogfmtValue(error, to: &out)
            }
        case .json:
            var stamp: [UInt8] = []
            appendTimestamp(timestamp, to: &stamp)
            var json = JSONWriter(capacity: 96 + message.utf8.count)
            json.raw("{\"ts\":")
            json.string(String(decoding: stamp, as: UTF8.self), htmlSafe: false)
            json.raw(",\"level\":")
            json.string(level.rawValue, htmlSafe: false)
            json.raw(",\"msg\":")
            json.string(message, htmlSafe: false)
            json.raw(",\"logger\":")
            json.string(label, htmlSafe: false)
            for key in keys {
                json.raw(",")
                json.string(key, htmlSafe: false)
                json.raw(":")
                appendJSON(metadata[key]!, to: &json)
            }
            if let error {
                json.raw(",\"error\":")
                json.string(error, htmlSafe: false)
            }
            json.raw("}")
            out.append(contentsOf: json.bytes)
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// A metadata value as one string (nested lists and dictionaries as swift-log prints them).
    static func flat(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        default: return value.description
        }
    }

    /// A metadata value as JSON: strings as strings, integers and finite doubles as numbers, lists
    /// as arrays, dictionaries as objects.
    static func appendJSON(_ value: Logger.Metadata.Value, to json: inout JSONWriter) {
        switch value {
        case .string(let text): json.string(text, htmlSafe: false)
        case .stringConvertible(let convertible):
            // Numbers stay numbers (a request's status and duration).
            switch convertible {
            case let number as Int: json.number(number)
            case let number as Int64: json.number(number)
            case let number as UInt64: json.number(number)
            case let number as Double where number.isFinite: json.double(number)
            default: json.string(convertible.description, htmlSafe: false)
            }
        case .array(let values):
            json.raw("[")
            for (index, element) in values.enumerated() {
                if index > 0 { json.raw(",") }
                appendJSON(element, to: &json)
            }
            json.raw("]")
        case .dictionary(let dictionary):
            json.raw("{")
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { json.raw(",") }
                json.string(key, htmlSafe: false)
                json.raw(":")
                appendJSON(dictionary[key]!, to: &json)
            }
            json.raw("}")
        }
    }

    /// A logfmt key: anything but letters, digits and `_.-/` becomes `_`, so a key can never
    /// break the line apart.
    static func appendLogfmtKey(_ key: String, to out: inout [UInt8]) {
        if key.isEmpty { out.append(UInt8(ascii: "_")); return }
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "/"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "_"))
            }
        }
    }

    /// A logfmt value: bare when it is plain, else double-quoted with `"`, `\` and control
    /// characters escaped (`\n`, `\t`, `\u00XX`), so one event is always one line.
    static func appendLogfmtValue(_ value: String, to out: inout [UInt8]) {
        let needsQuotes = value.isEmpty || value.utf8.contains { byte in
            byte <= UInt8(ascii: " ") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "\\")
                || byte == 0x7F
        }
        guard needsQuotes else { out.append(contentsOf: value.utf8); return }
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "\n"): out.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\r"): out.append(contentsOf: "\\r".utf8)
            case UInt8(ascii: "\t"): out.append(contentsOf: "\\t".utf8)
            case 0..<0x20, 0x7F:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// `2026-11-29T12:00:00.123Z`, from `CivilTime`: no calendar, formatter or time zone
    /// database involved.
    static func appendTimestamp(_ millis: Int64, to out: inout [UInt8]) {
        let time = CivilTime(millis: millis)
        let (year, month, day, secondOfDay, milli) = (time.year, time.month, time.day, time.secondOfDay, time.millisecond)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4); out.append(UInt8(ascii: "-"))
        digits(month, 2); out.append(UInt8(ascii: "-"))
        digits(day, 2); out.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2); out.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2); out.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2); out.append(UInt8(ascii: "."))
        digits(milli, 3); out.append(UInt8(ascii: "Z"))
    }
}
