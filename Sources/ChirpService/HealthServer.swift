import Foundation
import Logging
import Synchronization

/// What `/readyz` reports: ready, or the reasons it is not.
public struct Readiness: Sendable, Equatable {
    public var problems: [String]

    public init(problems: [String] = []) { self.problems = problems }

    public var isReady: Bool { problems.isEmpty }

    public static let ready = Readiness()
}

/// A minimal HTTP/1.1 responder for `GET /healthz`, `/readyz` and `/metrics`, served from one
/// dedicated thread (requests are tiny and rare; no need for an event loop). Every response closes
/// its connection.
/// `@unchecked`: `port` and `listener` are written by `start` before the serving thread exists,
/// and only read after; the rest is immutable or atomic.
public final class HealthServer: @unchecked Sendable {
    public let host: String
    public private(set) var port: Int
    private let metrics: MetricsRegistry
    private let readiness: @Sendable () -> Readiness
    private let logger: Logger
    private var listener: Int32 = -1
    private let running = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)

    public init(host: String, port: Int, metrics: MetricsRegistry, logger: Logger, readiness: @escaping @Sendable () -> Readiness) {
        self.host = host
        self.port = port
        self.metrics = metrics
        self.logger = logger
        self.readiness = readiness
    }

    /// Binds and starts serving. Port 0 picks a free port (see `port` afterwards).
    public func start() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let resolved = host == "localhost" ? "127.0.0.1" : host
        guard inet_pton(AF_INET, resolved, &address.sin_addr) == 1 else {
            close(fd)
            throw UsageError("--http-host must be an IPv4 address, got '\(host)'")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let code = errno
            close(fd)
            throw UsageError("cannot listen on \(host):\(port): \(String(cString: strerror(code)))")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: actual.sin_port))
        listener = fd
        running.store(true, ordering: .relaxed)
        let thread = Thread { [self] in serve() }
        thread.name = "http"
        thread.start()
        logger.info("http endpoint listening", metadata: ["address": "http://\(host):\(port)"])
    }

    public func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        stopped.wait()
        close(listener)
    }

    /// One connection being served: the request read so far, then the answer being written.
    private struct Connection {
        let fd: Int32
        let deadline: ContinuousClock.Instant
        var request: [UInt8] = []
        var answer: [UInt8]?
        var sent = 0
    }

    /// How long one connection may take from accept to the last byte of its answer.
    static let requestDeadline: Duration = .seconds(2)
    /// Connections served at once; a newcomer beyond it pushes out the oldest (answered probes
    /// leave within a millisecond, so the oldest are the ones that hold on).
    static let maxConnections = 32

    /// Serves every connection at once from this one thread (poll over all of them), each
    /// bounded by `requestDeadline`: clients that send or read slowly, or connect and send
    /// nothing, cannot hold up the orchestrator's probes.
    private func serve() {
        var connections: [Connection] = []
        defer {
            for connection in connections { close(connection.fd) }
            stopped.signal()
        }
        var buffer = [UInt8](repeating: 0, count: 2048)
        while running.load(ordering: .relaxed) {
            let now = ContinuousClock.now
            connections.removeAll { connection in
                guard connection.deadline <= now else { return false }
                close(connection.fd)
                return true
            }
            var descriptors = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            descriptors += connections.map { pollfd(fd: $0.fd, events: Int16($0.answer == nil ? POLLIN : POLLOUT), revents: 0) }
            let wait = connections.map { $0.deadline - now }.min().map { max(1, min(200, Int32(($0 / .milliseconds(1)).rounded(.up)))) } ?? 200
            guard poll(&descriptors, nfds_t(descriptors.count), wait) > 0 else { continue }
            for index in connections.indices.reversed() where descriptors[index + 1].revents != 0 {
                if !advance(&connections[index], buffer: &buffer) {
                    close(connections[index].fd)
                    connections.remove(at: index)
                }
            }
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { continue }
                if connections.count >= Self.maxConnections {
                    close(connections.removeFirst().fd)
                }
                connections.append(Connection(fd: client, deadline: ContinuousClock.now + Self.requestDeadline))
            }
        }
    }

    /// Reads what has arrived or writes what the socket takes; false when the connection is done.
    private func advance(_ connection: inout Connection, buffer: inout [UInt8]) -> Bool {
        if connection.answer == nil {
            let count = recv(connection.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 { connection.request.append(contentsOf: buffer[0..<count]) }
            let complete = HTTPRequest.headerEnd(in: connection.request) != nil || connection.request.count >= 16_384
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { return true }
            guard complete || count == 0 else { return count > 0 }
            if connection.request.isEmpty { return false }
            let request = HTTPRequest.parse(connection.request)
            var answer = respond(to: request)
            // HEAD: the headers of the GET answer, no body.
            if request?.method == "HEAD", let end = HTTPRequest.headerEnd(in: answer) { answer = Array(answer[..<(end + 4)]) }
            connection.answer = answer
        }
        guard let answer = connection.answer else { return true }
        let sent = answer.withUnsafeBytes { bytes in
            send(connection.fd, bytes.baseAddress! + connection.sent, bytes.count - connection.sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        }
        if sent < 0 { return errno == EAGAIN || errno == EWOULDBLOCK }
        connection.sent += sent
        return connection.sent < answer.count
    }

    func respond(to request: HTTPRequest?) -> [UInt8] {
        guard let request else { return HTTPRequest.response(status: 400, body: "bad request\n") }
        guard request.method == "GET" || request.method == "HEAD" else {
            return HTTPRequest.response(status: 405, body: "method not allowed\n")
        }
        switch request.path {
        case "/healthz":
            return HTTPRequest.response(status: 200, body: "ok\n")
        case "/readyz":
            let state = readiness()
            if state.isReady { return HTTPRequest.response(status: 200, body: "ready\n") }
            return HTTPRequest.response(status: 503, body: "not ready: " + state.problems.joined(separator: "; ") + "\n")
        case "/metrics":
            return HTTPRequest.response(status: 200, body: metrics.render(), contentType: "text/plain; version=0.0.4")
        default:
            return HTTPRequest.response(status: 404, body: "not found\n")
        }
    }
}
