import Foundation
import ServiceLifecycle
import Synchronization

/// Set when the process is asked to stop; a worker loop checks it between batches.
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public var isStopping: Bool { flag.load(ordering: .relaxed) }
    public func stop() { flag.store(true, ordering: .relaxed) }
}

/// A `Service` whose work is a blocking loop (librdkafka polls, libpq calls) on a dedicated
/// thread, off Swift's cooperative pool. Graceful shutdown (SIGTERM/SIGINT) or cancellation sets
/// the stop signal; the loop finishes its current batch, flushes, and returns.
public final class WorkerThread: Service, CustomStringConvertible {
    public let name: String
    private let body: @Sendable (StopSignal) throws -> Void
    public let stopSignal = StopSignal()

    public init(name: String, body: @escaping @Sendable (StopSignal) throws -> Void) {
        self.name = name
        self.body = body
    }

    public var description: String { name }

    public func run() async throws {
        let stop = stopSignal
        let body = self.body
        let name = self.name
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let thread = Thread {
                        do {
                            try body(stop)
                            continuation.resume()
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                    thread.name = name
                    thread.stackSize = 4 << 20
                    thread.start()
                }
            } onGracefulShutdown: {
                stop.stop()
            }
        } onCancel: {
            stop.stop()
        }
    }
}
