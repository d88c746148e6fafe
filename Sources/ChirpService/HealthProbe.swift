import Foundation

/// A tiny HTTP GET client for `<service> healthcheck`: container images have no curl, so the
/// binary checks its own sibling process's `/readyz`.
public enum HealthProbe {
    /// Returns the status code and body, or throws when nothing answers.
    public static func get(host: String, port: Int, path: String, timeoutSeconds: Int = 3) throws -> (status: Int, body: String) {
        let target = (host == "0.0.0.0" || host == "localhost") ? "127.0.0.1" : host
        let response = try exchange(host: host, port: port, request: "GET \(path) HTTP/1.1\r\nHost: \(target)\r\nConnection: close\r\n\r\n",
                                    timeoutSeconds: timeoutSeconds)
        let text = String(decoding: response, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { throw UsageError("no HTTP response from \(target):\(port)") }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }

    /// Sends `request` as it is and returns every byte that comes back until the server closes.
    static func exchange(host: String, port: Int, request: String, timeoutSeconds: Int = 3) throws -> [UInt8] {
        let fd = try connect(host: host, port: port, timeoutSeconds: timeoutSeconds)
        defer { close(fd) }
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            response.append(contentsOf: buffer[0..<count])
        }
        return response
    }

    /// A TCP connection to `host:port` (IPv4; `localhost` and `0.0.0.0` mean 127.0.0.1) whose reads
    /// and writes give up after `timeoutSeconds`; the caller closes it.
    static func connect(host: String, port: Int, timeoutSeconds: Int = 3) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw UsageError("socket: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let target = (host == "0.0.0.0" || host == "localhost") ? "127.0.0.1" : host
        guard inet_pton(AF_INET, target, &address.sin_addr) == 1 else {
            close(fd)
            throw UsageError("not an IPv4 address: \(host)")
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw UsageError("cannot connect to \(target):\(port): \(reason)")
        }
        return fd
    }
}
