// No imports: `make fuzz` compiles this file together with ChirpCore.

/// The request line of an HTTP/1.x request, and response bytes.
public struct HTTPRequest: Equatable, Sendable {
    public var method: String
    public var path: String

    static func headerEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// Parses `METHOD /path?query HTTP/1.x`; the query is dropped.
    public static func parse(_ bytes: [UInt8]) -> HTTPRequest? {
        guard let lineEnd = bytes.firstIndex(of: 13) ?? bytes.firstIndex(of: 10) else { return nil }
        let parts = String(decoding: bytes[0..<lineEnd], as: UTF8.self).split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), parts[1].hasPrefix("/") else { return nil }
        let target = parts[1]
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "/"
        return HTTPRequest(method: String(parts[0]), path: path)
    }

    static let reasons = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"]

    public static func response(status: Int, body: String, contentType: String = "text/plain; charset=utf-8") -> [UInt8] {
        let bodyBytes = Array(body.utf8)
        let head = "HTTP/1.1 \(status) \(reasons[status] ?? "Status")\r\nContent-Type: \(contentType)\r\nContent-Length: \(bodyBytes.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + bodyBytes
    }
}
