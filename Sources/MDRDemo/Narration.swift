import Foundation

/// How the demo writes times, durations and money: local Amsterdam wall-clock times (the service's users are Dutch;
/// the servers' `TimeZone.current` is UTC), durations in seconds, amounts in euros.
enum Narration {
    static let amsterdam = TimeZone(identifier: "Europe/Amsterdam")!

    private static func formatter(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = amsterdam
        formatter.dateFormat = format
        return formatter
    }

    /// The API's times: ISO 8601 in UTC with milliseconds (also accepted without).
    static func date(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: text)
    }

    /// `HH:mm:ss` in Amsterdam.
    static func time(_ date: Date) -> String { formatter("HH:mm:ss").string(from: date) }

    /// `HH:mm:ss` in Amsterdam of an API time; the text itself when it is not one.
    static func time(_ text: String) -> String { date(text).map(time) ?? text }

    /// `d MMM HH:mm` in Amsterdam of an API time.
    static func dateTime(_ text: String) -> String { date(text).map { formatter("d MMM HH:mm").string(from: $0) } ?? text }

    /// `YYYY-MM-DD` in Amsterdam.
    static func amsterdamDate(_ date: Date) -> String { formatter("yyyy-MM-dd").string(from: date) }

    /// `YYYY-MM` in Amsterdam.
    static func amsterdamMonth(_ date: Date) -> String { formatter("yyyy-MM").string(from: date) }

    /// `text` padded (or cut) to `width` characters, for columns.
    static func column(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }

    /// `1.2 s`.
    static func seconds(_ value: Double) -> String { String(format: "%.1f s", value) }

    /// `30 min` (or hours when whole).
    static func minutes(_ seconds: Double) -> String {
        let minutes = Int((seconds / 60).rounded())
        return minutes >= 120 && minutes % 60 == 0 ? "\(minutes / 60) h" : "\(minutes) min"
    }

    /// `€204.00`.
    static func euros(_ cents: Int) -> String { String(format: "€%d.%02d", cents / 100, cents % 100) }
}
