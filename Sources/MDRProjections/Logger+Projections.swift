import Logging

extension Logger {
    /// The logger projections write their statements with (statement logging at trace level only).
    static let projections = Logger(label: "mdr.projections")
}
