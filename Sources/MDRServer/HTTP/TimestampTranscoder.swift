import Foundation
import MDRDomain
import OpenAPIRuntime

/// The service's one time format on the wire (`MDRDomain.Timestamp`): UTC with milliseconds out; any offset, with
/// or without a fraction, in.
struct TimestampTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String { Timestamp.format(date) }

    func decode(_ string: String) throws -> Date {
        guard let date = Timestamp.parse(string) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "expected an ISO-8601 time with zone, e.g. 2026-11-29T10:15:30Z"))
        }
        return date
    }
}
