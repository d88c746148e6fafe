import Foundation
import ServiceLifecycle
import Synchronization

/// A Boolean shared between threads (a worker sets it, `/readyz` reads it).
public final class AtomicFlag: Sendable {
    private let flag: Atomic<Bool>
    public init(_ value: Bool = false) { flag = Atomic(value) }
    public var value: Bool { flag.load(ordering: .relaxed) }
    public func set(_ value: Bool) { flag.store(value, ordering: .relaxed) }
}

/// Set when the process is asked to stop; a worker loop checks it between batches.
public final class StopSignal: Sendable {
    private let flag = AtomicFlag()
    public init() {}
    public var isStopping: Bool { flag.value }
    public func stop() { flag.set(true) }
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

/// A value shared between threads behind a lock (a reference, so closures can share it).
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    public func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}
