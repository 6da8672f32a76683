import Foundation
import MDRDomain
import Mustache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The two forms of a report.
public enum ReportFormat: String, Sendable, CaseIterable {
    /// `TenantReport` as JSON, for programs.
    case json
    /// A printable page with inline SVG charts, for people.
    case html

    /// The media type of the form.
    public var contentType: String {
        switch self {
        case .json: "application/json"
        case .html: "text/html; charset=utf-8"
        }
    }
}

/// Renders reports: JSON with the service's one JSON coding, HTML from the bundled Mustache templates
/// (`Templates/*.mustache`, values HTML-escaped by Mustache, no scripts, no external resources).
public enum ReportRenderer {
    /// A template that is missing or does not parse: a broken build, not a bad request.
    public struct TemplateError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The report in `format`.
    public static func render(_ report: TenantReport, as format: ReportFormat) throws -> Data {
        switch format {
        case .json: try json(report)
        case .html: Data(try html(report).utf8)
        }
    }

    /// Sorted keys and indentation: the same report gives the same bytes, and a person can read a file of it.
    public static func json(_ report: TenantReport) throws -> Data {
        let encoder = JSONCoding.prettyEncoder()
        return try encoder.encode(report)
    }

    /// The printable page of `report` (`Templates/report.mustache` over a `ReportView`).
    public static func html(_ report: TenantReport) throws -> String {
        guard let html = try library.get().render(ReportView(report), withTemplate: "report") else {
            throw TemplateError(description: "the template 'report' is missing from the MDRReports bundle")
        }
        return html
    }

    /// The templates, parsed once. Loaded synchronously (the library's own loader is async) so that rendering is a
    /// plain function.
    static let library: Result<MustacheLibrary, TemplateError> = {
        guard let folder = Bundle.module.url(forResource: "Templates", withExtension: nil),
            let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
        else { return .failure(TemplateError(description: "the Templates folder is missing from the MDRReports bundle")) }
        var library = MustacheLibrary()
        for file in files.sorted() where file.hasSuffix(".mustache") {
            do {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                try library.register(text, named: String(file.dropLast(".mustache".count)))
            } catch {
                return .failure(TemplateError(description: "template \(file): \(error)"))
            }
        }
        return .success(library)
    }()
}

/// Writes a report file whole or not at all: into a hidden file beside the destination, then renamed over it, so a
/// reader never sees half a report and a failed run leaves the old file in place.
public enum ReportFile {
    /// Writes `data` to `destination` through a hidden `.NAME.partial` beside it; on failure the partial file is
    /// removed and the error thrown.
    public static func write(_ data: Data, to destination: URL) throws {
        let partial = destination.deletingLastPathComponent().appendingPathComponent("." + destination.lastPathComponent + ".partial")
        do {
            try data.write(to: partial)
            // rename(2) replaces the destination atomically.
            guard rename(partial.path, destination.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path])
            }
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
    }
}
