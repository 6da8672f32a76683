import Foundation
import Hummingbird

/// Refuses a query string the OpenAPI runtime cannot read, with `400 bad_request` naming the part at fault, before any
/// handler runs. The runtime reads a query as `name=value` pairs joined by `&` and throws on anything else (`?limit`,
/// `?&limit=5`, `?a=1&&b=2`) an error it does not classify, which was answered 500; a value that is not valid
/// percent-encoding was reported as a fault of the body.
///
/// Only the form is checked here; whether a value suits its parameter is the runtime's part (a 400 too).
struct QueryStringMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let query = request.uri.query, let fault = Self.fault(in: query) {
            throw Problem.badRequest(fault)
        }
        return try await next(request, context)
    }

    /// What is wrong with `query` (the part after `?`, still percent-encoded), or nil when it is well formed. An empty
    /// query (`/v1/incidents?`) is well formed: it names no parameter.
    static func fault(in query: String) -> String? {
        guard !query.isEmpty else { return nil }
        for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
            guard !pair.isEmpty else {
                return "query: an empty parameter (a leading, trailing or doubled '&'): write name=value pairs joined by '&'"
            }
            guard let equals = pair.firstIndex(of: "=") else {
                return "query: '\(Self.shown(pair))' has no value: write \(Self.shown(pair))=VALUE, or leave it out"
            }
            let name = pair[..<equals], value = pair[pair.index(after: equals)...]
            guard !name.isEmpty else { return "query: a value without a name ('=\(Self.shown(value))'): write name=value" }
            guard Self.decodes(name) else { return "query: the name '\(Self.shown(name))' is not valid percent-encoding" }
            guard Self.decodes(value) else { return "query: the value of '\(Self.shown(name))' is not valid percent-encoding" }
        }
        return nil
    }

    /// True when every `%` starts a two-digit hexadecimal escape and the escapes spell UTF-8.
    private static func decodes(_ part: Substring) -> Bool {
        part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding != nil
    }

    /// A part of the client's query, short and printable, to name it in the answer.
    private static func shown(_ part: Substring) -> String {
        let printable = part.unicodeScalars.map { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F ? "?" : String($0) }.joined()
        return printable.count > 40 ? String(printable.prefix(40)) + "…" : printable
    }
}
