import Foundation

/// Small parsers for the scalar fields of exports.
enum ImportField {
    /// `text` without surrounding XML whitespace (space, tab, CR, LF), or nil when nothing is left.
    static func scalar(_ text: String?) -> String? {
        // Not `trimmingCharacters(in:)`: on Linux it costs a third of the whole import.
        guard let text else { return nil }
        let bytes = text.utf8
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) }) else { return nil }
        if first == bytes.startIndex, bytes.index(after: last) == bytes.endIndex { return text }
        // Both ends are whole scalars: the bytes dropped are ASCII.
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    /// `true`/`false`/`1`/`0` (any case; absent or empty is false); nil when it is anything else.
    static func boolean(_ text: String?) -> Bool? {
        switch scalar(text)?.lowercased() {
        case nil, "false", "0": return false
        case "true", "1": return true
        default: return nil
        }
    }

    /// A non-negative count (absent or empty is 0); nil when it is anything else.
    static func count(_ text: String?) -> Int? {
        guard let value = scalar(text) else { return 0 }
        guard let number = Int(value), number >= 0 else { return nil }
        return number
    }

    /// Unix milliseconds for `YYYY-MM-DD[T| ]HH:MM[:SS[.fff]][Z|±HH[:]MM]`; no zone means UTC.
    /// Nil when the text is not such a date or names an impossible one.
    static func timestamp(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + digits)] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += digits
            return value
        }
        func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        guard let year = number(4), take(0x2D), let month = number(2), take(0x2D), let day = number(2),
              take(0x54) || take(0x20) || take(0x74),
              let hour = number(2), take(0x3A), let minute = number(2) else { return nil }
        var second = 0
        var millis = 0
        if take(0x3A) {
            guard let value = number(2) else { return nil }
            second = value
            if take(0x2E) || take(0x2C) {
                var scale = 100
                let start = index
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                    millis += Int(bytes[index] - 0x30) * scale
                    scale /= 10
                    index += 1
                }
                guard index > start else { return nil }
            }
        }
        var offsetMinutes = 0
        if take(0x5A) || take(0x7A) {
            // UTC.
        } else if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D {
            let sign = bytes[index] == 0x2D ? -1 : 1
            index += 1
            guard let hours = number(2) else { return nil }
            _ = take(0x3A)
            let minutes = index < bytes.count ? number(2) : 0
            guard let minutes, hours <= 23, minutes <= 59 else { return nil }
            offsetMinutes = sign * (hours * 60 + minutes)
        }
        guard index == bytes.count, (1...9999).contains(year), (1...12).contains(month),
              day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
            - Int64(offsetMinutes * 60)
        return seconds * 1000 + Int64(millis)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
