import Foundation
import MDRDomain
@testable import MDRReports
import Testing

@Suite struct ReportRenderingTests {
    @Test func theHTMLShowsTheFiguresOfTheReport() throws {
        let html = try ReportRenderer.html(ReportFixtures.report)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("Managed Detection and Response — November 2026"))
        #expect(html.contains("Acme B.V."))
        #expect(html.contains("Werkplek Compliant") && html.contains("SLA A"))
        // Signals received, per source with its severities, and the totals row.
        #expect(html.contains("<td>Endpoint (EDR)</td><td>2</td><td>10</td><td>0</td><td>0</td><td>5</td><td>0</td><td>17</td><td>6</td>"))
        #expect(html.contains("<td>All sources</td><td>2</td><td>10</td><td>1</td><td>0</td><td>5</td><td>7</td><td>25</td><td>7</td>"))
        #expect(html.contains("<td>Triage</td><td>4</td><td>3</td><td>1</td><td>0</td><td>75.0 %</td><td>10 min</td><td>20 min</td>"))
        #expect(html.contains(#"<dt>Duplicates</dt><dd><span class="value">3</span>"#))
        #expect(html.contains(#"<dt>Rejected</dt><dd><span class="value">2</span>"#))
        #expect(html.contains("<td class=\"text\">Ransomware &lt;b&gt;staged&lt;/b&gt; on a file server</td>"))
        #expect(html.contains("<td>ws-1</td><td>2026-11-02 11:21</td><td>2026-11-04 11:21</td>"))
        #expect(!html.contains("No devices were isolated") && !html.contains("No confirmed incidents"))
        #expect(html.contains("<td>Microsoft 365</td><td class=\"text\">missing</td><td class=\"text\">mail</td>"))
    }

    @Test func theHTMLIsSelfContainedAndPrintable() throws {
        let html = try ReportRenderer.html(ReportFixtures.report)
        #expect(!html.lowercased().contains("<script"))
        // The SVG namespace is a name, not a resource: nothing else may point outside the page.
        #expect(!html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http"))
        #expect(!html.contains("src=") && !html.contains("href=") && !html.contains("url("))
        #expect(html.contains("@media print") && html.contains("size: A4"))
        #expect(html.components(separatedBy: "<svg class=\"chart\"").count - 1 == 4)
    }

    @Test func anEmptyPeriodSaysSo() throws {
        var facts = ReportFixtures.facts
        facts.incidents = []
        facts.isolations = []
        let html = try ReportRenderer.html(ReportAssembler.report(facts, at: ReportFixtures.generatedAt))
        #expect(html.contains("No confirmed incidents in this period.") && html.contains("No devices were isolated in this period."))
    }

    @Test func valuesFromTheTenantAreEscaped() throws {
        var report = ReportFixtures.report
        report.tenant.name = "<script>alert('x')</script> & \"Co\""
        let html = try ReportRenderer.html(report)
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Co&quot;"))
    }

    @Test func barsAreScaledToTheLongestRow() {
        let chart = BarChart(
            title: "t",
            rows: [
                .init(label: "a", valueText: "10", parts: [.init(6, cssClass: "x", title: "x"), .init(4, cssClass: "y", title: "y")]),
                .init(label: "b", valueText: "5", parts: [.init(5, cssClass: "x", title: "x"), .init(0, cssClass: "y", title: "y")]),
                .init(label: "c", valueText: "0", parts: []),
            ])
        let plot = BarChart.plotWidth
        #expect(chart.bars.count == 3)
        #expect(chart.height == 3 * BarChart.rowHeight + 4)
        let a = chart.bars[0].segments
        #expect(a.map(\.x) == [BarChart.labelWidth, BarChart.labelWidth + plot * 0.6])
        #expect(a.map(\.width) == [plot * 0.6, plot * 0.4])
        // Zero parts draw nothing; half the largest is half the plot.
        #expect(chart.bars[1].segments.map(\.width) == [plot * 0.5])
        #expect(chart.bars[2].segments.isEmpty)
        #expect(chart.bars.map(\.y) == [4, 4 + BarChart.rowHeight, 4 + 2 * BarChart.rowHeight])
        #expect(chart.bars[0].valueX == BarChart.labelWidth + plot + 6)
    }

    @Test func aFixedScaleKeepsSharesComparable() {
        let chart = BarChart(title: "t", rows: [.init(label: "a", valueText: "75 %", parts: [.init(0.75, cssClass: "met", title: "")])], scale: 1)
        #expect(chart.bars[0].segments[0].width == BarChart.plotWidth * 0.75)
        let empty = BarChart(title: "t", rows: [.init(label: "a", valueText: "0", parts: [.init(0, cssClass: "x", title: "")])])
        #expect(empty.bars[0].segments.isEmpty)
    }

    @Test func theSignalChartStacksSeveritiesInTheReportsProportions() throws {
        let view = ReportView(ReportFixtures.report)
        let endpoint = view.signalChart.bars[0]
        #expect(endpoint.label == "Endpoint (EDR)")
        // Endpoint has the most signals (17): its bar fills the plot, its critical part is 2/17 of it.
        #expect(endpoint.segments.map(\.cssClass) == ["sev-critical", "sev-high", "sev-low"])
        #expect(abs(endpoint.segments.map(\.width).reduce(0, +) - BarChart.plotWidth) < 0.05)
        #expect(abs(endpoint.segments[0].width - BarChart.plotWidth * 2 / 17) < 0.01)
        let html = try ReportRenderer.html(ReportFixtures.report)
        #expect(html.contains("<rect class=\"sev-critical\" x=\"140.0\" y=\"4.0\" width=\"\(endpoint.segments[0].width)\" height=\"16\">"))
    }

    @Test func displayTextsAreReadable() {
        #expect(ReportView.number(1_234_567) == "1\u{202F}234\u{202F}567")
        #expect(ReportView.number(999) == "999")
        #expect(ReportView.duration(45) == "45 s")
        #expect(ReportView.duration(3 * 3600 + 5 * 60) == "3 h 05 min")
        #expect(ReportView.duration(nil) == "—")
        #expect(ReportView.share(2.0 / 3) == "66.7 %")
        #expect(ReportView.instant(Timestamp.parse("2026-12-01T08:00:00Z")!) == "2026-12-01 09:00")
    }

    @Test func aReportFileIsReplacedWhole() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mdr-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("report.html")
        try ReportFile.write(Data("old".utf8), to: file)
        try ReportFile.write(try ReportRenderer.render(ReportFixtures.report, as: .html), to: file)
        #expect(try String(contentsOf: file, encoding: .utf8).contains("Acme B.V."))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["report.html"])
        #expect(throws: (any Error).self) { try ReportFile.write(Data(), to: folder.appendingPathComponent("missing/report.html")) }
    }
}
