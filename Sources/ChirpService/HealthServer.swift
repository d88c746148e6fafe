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

    private func serve() {
        defer { stopped.signal() }
        var pollDescriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        while running.load(ordering: .relaxed) {
            let ready = poll(&pollDescriptor, 1, 200)
            guard ready > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            handle(client)
            close(client)
        }
    }

    /// How long one connection may take from accept to the last byte of its answer. The server
    /// answers one connection at a time, so a client that sends or reads slowly must not hold
    /// the probes of the orchestrator up for longer than this.
    static let requestDeadline: Duration = .seconds(2)

    private func handle(_ client: Int32) {
        let deadline = ContinuousClock.now + Self.requestDeadline
        func millisecondsLeft() -> Int32 {
            let left = deadline - ContinuousClock.now
            return left <= .zero ? 0 : Int32((left / .milliseconds(1)).rounded(.up))
        }
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while request.count < 16_384 {
            var descriptor = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            let wait = millisecondsLeft()
            guard wait > 0, poll(&descriptor, 1, wait) > 0 else { return }
            let count = recv(client, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard count > 0 else { break }
            request.append(contentsOf: buffer[0..<count])
            if HTTPRequest.headerEnd(in: request) != nil { break }
        }
        let response = respond(to: HTTPRequest.parse(request))
        response.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                var descriptor = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
                let wait = millisecondsLeft()
                guard wait > 0, poll(&descriptor, 1, wait) > 0 else { return }
                let sent = send(client, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if sent <= 0 { break }
                offset += sent
            }
        }
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
