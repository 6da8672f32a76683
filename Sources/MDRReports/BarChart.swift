/// A horizontal bar chart for an inline SVG, with its geometry computed here (the template only places what it is
/// given): one bar per row, each bar a stack of segments, scaled so the longest bar fills the plot area.
public struct BarChart: Sendable, Equatable {
    /// One coloured part of a bar.
    public struct Segment: Sendable, Equatable {
        public var x: Double
        public var width: Double
        /// The CSS class that colours it (e.g. `sev-high`).
        public var cssClass: String
        /// Shown as the segment's tooltip and read by screen readers.
        public var title: String
    }

    /// One row: a label, a stack of segments, and the figure printed after the bar.
    public struct Bar: Sendable, Equatable {
        public var label: String
        public var valueText: String
        /// Top of the bar, and the baseline of its texts.
        public var y: Double
        public var textY: Double
        /// Where the figure after the bar starts.
        public var valueX: Double
        public var segments: [Segment]
    }

    /// One part of a row's value, before scaling.
    public struct Part: Sendable, Equatable {
        public var value: Double
        public var cssClass: String
        public var title: String

        public init(_ value: Double, cssClass: String, title: String) {
            self.value = value
            self.cssClass = cssClass
            self.title = title
        }
    }

    /// One row before layout.
    public struct Row: Sendable, Equatable {
        public var label: String
        public var valueText: String
        public var parts: [Part]

        public init(label: String, valueText: String, parts: [Part]) {
            self.label = label
            self.valueText = valueText
            self.parts = parts
        }
    }

    public static let width = 640.0
    public static let labelWidth = 140.0
    public static let valueWidth = 70.0
    public static let rowHeight = 26.0
    public static let barHeight = 16.0
    /// The plot area's width: what the longest bar fills.
    public static var plotWidth: Double { width - labelWidth - valueWidth }

    /// What the chart shows, for `aria-label`.
    public var title: String
    public var width: Double
    public var height: Double
    /// The x of the plot area's left edge (the axis).
    public var axisX: Double
    public var bars: [Bar]

    /// Lays out `rows`. With `scale` the bars are relative to it (e.g. 1 for shares); otherwise to the largest row
    /// total. Negative values count as zero; an all-zero chart has empty bars.
    public init(title: String, rows: [Row], scale: Double? = nil) {
        self.title = title
        self.width = Self.width
        self.height = Double(rows.count) * Self.rowHeight + 4
        self.axisX = Self.labelWidth
        let largest = scale ?? rows.map { $0.parts.reduce(0) { $0 + max(0, $1.value) } }.max() ?? 0
        let unit = largest > 0 ? Self.plotWidth / largest : 0
        bars = rows.enumerated().map { index, row in
            let top = Double(index) * Self.rowHeight + 4
            var x = Self.labelWidth
            var segments: [Segment] = []
            for part in row.parts where part.value > 0 {
                let width = min(part.value * unit, Self.labelWidth + Self.plotWidth - x)
                segments.append(Segment(x: Self.round(x), width: Self.round(width), cssClass: part.cssClass, title: part.title))
                x += width
            }
            return Bar(
                label: row.label, valueText: row.valueText, y: top, textY: top + Self.barHeight - 3, valueX: Self.round(x + 6),
                segments: segments)
        }
    }

    /// Two decimals are enough for a printed chart and keep the SVG short and stable.
    static func round(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
