/// A unix time as UTC calendar fields, from the civil date of the Unix day (Howard Hinnant's
/// days-to-civil algorithm): no calendar, formatter or time zone database involved. Shared by
/// the log lines' timestamps and the mails' `Date` field.
public struct CivilTime: Sendable, Equatable {
    public var year: Int
    /// 1 to 12.
    public var month: Int
    /// 1 to 31.
    public var day: Int
    /// 0 (Sunday) to 6 (Saturday).
    public var weekday: Int
    /// Seconds since midnight, 0 to 86,399.
    public var secondOfDay: Int
    /// 0 to 999.
    public var millisecond: Int

    /// The UTC calendar fields of unix milliseconds `millis` (negative ones count back from 1970).
    public init(millis: Int64) {
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        millisecond = Int(millis - seconds * 1000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        secondOfDay = Int(seconds - days * 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * monthPrime + 2) / 5 + 1)
        month = Int(monthPrime < 10 ? monthPrime + 3 : monthPrime - 9)
        year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (index 4 from Sunday).
    }

    /// `YYYY-MM-DD`.
    public var isoDate: String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))"
    }
}
