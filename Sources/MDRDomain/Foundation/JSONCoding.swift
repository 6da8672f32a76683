import Foundation

/// The one JSON wire format of the service — events, API answers, notification payloads, the command line: sorted
/// keys, ISO-8601 UTC times with milliseconds (`2026-11-29T10:15:30.123Z`); times without fractional seconds are
/// accepted on input.
///
/// One encoder and one decoder, built once and shared (they are safe to use from many tasks at once; nobody may
/// change their options): building them per event cost more than the encoding of a small event.
public enum JSONCoding {
    /// Compact, sorted keys: the same value always gives the same bytes.
    public static func encoder() -> JSONEncoder { compact }

    /// Indented, for people (the command line, reports).
    public static func prettyEncoder() -> JSONEncoder { pretty }

    public static func decoder() -> JSONDecoder { shared }

    private static let compact = makeEncoder([.sortedKeys, .withoutEscapingSlashes])
    private static let pretty = makeEncoder([.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])

    private static func makeEncoder(_ formatting: JSONEncoder.OutputFormatting) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }

    private static let shared: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let raw = try container.decode(String.self)
            guard let date = Timestamp.parse(raw) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected an ISO-8601 time with zone, e.g. 2026-11-29T10:15:30Z")
            }
            return date
        }
        return decoder
    }()
}

/// ISO-8601 formatting and parsing of instants.
///
/// Hand-written on purpose: Foundation's ISO-8601 styles truncate the binary fraction (`.999` is written back as
/// `.998`) and accept impossible dates (`2026-02-30` becomes 2 March) and trailing text.
public enum Timestamp {
    /// `2026-11-29T10:15:30.123Z`: UTC, rounded to the millisecond.
    public static func format(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSinceReferenceDate * 1000).rounded()) + referenceDateSeconds * 1000
        let (seconds, milli) = floorDivide(millis, 1000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = CivilDays.civil(fromDays: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay % 3600 / 60, 2))"
            + ":\(pad(secondOfDay % 60, 2)).\(pad(milli, 3))Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM|±HH)`. Fractions of any length are accepted (digits
    /// beyond nanoseconds are ignored); impossible dates and times, and anything after the zone, are refused.
    public static func parse(_ raw: String) -> Date? {
        let b = Array(raw.utf8)
        var i = 0
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        func number(_ width: Int) -> Int64? {
            guard i + width <= b.count else { return nil }
            var value: Int64 = 0
            for c in b[i..<(i + width)] {
                guard isDigit(c) else { return nil }
                value = value * 10 + Int64(c - 0x30)
            }
            i += width
            return value
        }
        func skip(_ c: Character) -> Bool {
            guard i < b.count, b[i] == c.asciiValue else { return false }
            i += 1
            return true
        }
        guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2), skip("T"),
            let hour = number(2), skip(":"), let minute = number(2), skip(":"), let second = number(2),
            (1...12).contains(month), (1...Int64(CalendarDate.daysIn(month: Int(month), year: Int(year)))).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var fraction = 0.0
        if skip(".") {
            let start = i
            var value: Int64 = 0, scale: Int64 = 1
            while i < b.count, isDigit(b[i]) {
                if i - start < 9 {
                    value = value * 10 + Int64(b[i] - 0x30)
                    scale *= 10
                }
                i += 1
            }
            guard i > start else { return nil }
            fraction = Double(value) / Double(scale)
        }
        var offset: Int64 = 0
        if !skip("Z") {
            let sign: Int64
            if skip("+") { sign = 1 } else if skip("-") { sign = -1 } else { return nil }
            guard let offsetHours = number(2), offsetHours < 24 else { return nil }
            var offsetMinutes: Int64 = 0
            if i < b.count {
                _ = skip(":")
                guard let m = number(2), m < 60 else { return nil }
                offsetMinutes = m
            }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard i == b.count else { return nil }
        let seconds = CivilDays.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSinceReferenceDate: Double(seconds - referenceDateSeconds) + fraction)
    }

    /// 2001-01-01T00:00:00Z in seconds since 1970.
    private static let referenceDateSeconds: Int64 = 978_307_200

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (quotient: Int64, remainder: Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }
}
