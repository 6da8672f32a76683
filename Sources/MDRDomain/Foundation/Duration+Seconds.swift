extension Duration {
    /// In seconds, with fractions (for `Date.addingTimeInterval`, SQL intervals and figures).
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
