import Foundation
import MDRReports
import Testing

/// The HTML report as a browser sees it: Debian's headless Chromium loads the file, and the test reads the DOM it
/// built and its log. Skipped (with a message) when Chromium is missing, unless `MDR_REQUIRE_CHROMIUM` is set, as
/// `ops/test` does (it installs Chromium), so CI cannot pass without running it.
@Suite struct ChromiumRenderingTests {
    /// What Chromium did with a file: the serialized DOM, its log, its exit status.
    struct Rendered {
        var dom: String
        var log: String
        var status: Int32
    }

    static func chromium() -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser"] {
                let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
        }
        return nil
    }

    static var required: Bool { ProcessInfo.processInfo.environment["MDR_REQUIRE_CHROMIUM"].map { !$0.isEmpty && $0 != "0" } ?? false }

    /// Loads `file` in headless Chromium (its own profile, a two-minute limit) and returns the DOM and the log, at a
    /// verbosity that lists every console message and every file the page loads.
    static func render(_ file: URL, with chromium: URL, in folder: URL) throws -> Rendered {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = [
            "120", chromium.path, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--user-data-dir=\(folder.appendingPathComponent("profile").path)", "--enable-logging=stderr", "--v=1", "--dump-dom",
            file.absoluteString,
        ]
        let out = folder.appendingPathComponent("dom.html"), err = folder.appendingPathComponent("chromium.log")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return Rendered(
            dom: try String(contentsOf: out, encoding: .utf8), log: try String(contentsOf: err, encoding: .utf8), status: process.terminationStatus)
    }

    @Test func chromiumLoadsTheReportWithoutErrorsAndShowsItsFigures() throws {
        guard let chromium = Self.chromium() else {
            if Self.required {
                Issue.record("MDR_REQUIRE_CHROMIUM is set but no chromium is on PATH: apt-get install -y chromium")
            } else {
                print("skipped: chromium is not installed (apt-get install -y chromium; ops/test installs it and sets MDR_REQUIRE_CHROMIUM=1)")
            }
            return
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mdr-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("report.html")
        try ReportFile.write(try ReportRenderer.render(ReportFixtures.report, as: .html), to: file)

        let rendered = try Self.render(file, with: chromium, in: folder)
        #expect(rendered.status == 0, "chromium exited with \(rendered.status): \(rendered.log.suffix(2000))")

        // No console message (the page has no scripts: any message is an error Chromium reports about the page).
        let console = rendered.log.split(separator: "\n").filter { $0.contains(":CONSOLE") }
        #expect(console.isEmpty, "console: \(console)")
        // No resource but the report itself was loaded: nothing external, nothing missing.
        let loads = rendered.log.split(separator: "\n").filter { $0.contains("FileURLLoader::Start:") || $0.contains("http") && $0.contains("URLLoader") }
        #expect(loads.allSatisfy { $0.hasSuffix(file.absoluteString) }, "loads: \(loads)")

        // The DOM Chromium built shows the figures, and the charts are SVG elements with their bars.
        let dom = rendered.dom
        #expect(dom.contains("<h1>Managed Detection and Response — November 2026</h1>"))
        #expect(dom.contains("<span id=\"tenant-name\">Acme B.V.</span>"))
        #expect(dom.contains("<td>Endpoint (EDR)</td><td>2</td><td>10</td><td>0</td><td>0</td><td>5</td><td>0</td><td>17</td><td>6</td>"))
        #expect(dom.contains("<td>Triage</td><td>4</td><td>3</td><td>1</td><td>0</td><td>75.0 %</td>"))
        #expect(dom.components(separatedBy: "<svg class=\"chart\"").count - 1 == 4)
        #expect(dom.contains("<rect class=\"sev-critical\""))
        #expect(dom.contains("<rect class=\"sla-met\""))
    }
}
