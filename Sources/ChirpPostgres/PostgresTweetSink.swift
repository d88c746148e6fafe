import ChirpCore
import ChirpPipeline
import ChirpStore

/// The loader's `TweetSink` on PostgreSQL: an `AnalyticsStore` whose errors are sorted into the
/// classes the loader acts on. Owned by the loader's thread.
public final class PostgresTweetSink: TweetSink {
    public let store: AnalyticsStore

    public init(store: AnalyticsStore) {
        self.store = store
    }

    public func beginLoad(_ batch: TweetBatch, consumerGroup: String) throws(SinkError) {
        do { try store.beginLoad(batch, consumerGroup: consumerGroup) } catch { throw error.sinkError }
    }

    public func finishLoad() throws(SinkError) -> Int {
        do { return try store.finishLoad() } catch { throw error.sinkError }
    }

    public var isFree: Bool { store.isFree }

    public func loadRowByRow(_ batch: TweetBatch, consumerGroup: String) throws(SinkError) -> RowByRowResult {
        do {
            let result = try store.loadRowByRow(batch, consumerGroup: consumerGroup)
            return RowByRowResult(inserted: result.inserted, refused: result.refused.map { ($0.id, $0.error.sinkError) })
        } catch {
            throw error.sinkError
        }
    }

    public func storedOffsets(consumerGroup: String) throws(SinkError) -> [TopicPartitionOffset] {
        do {
            return try store.storedOffsets(consumerGroup: consumerGroup).map {
                TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: $0.offset)
            }
        } catch {
            throw error.sinkError
        }
    }

    public func reconnect() throws(SinkError) {
        do { try store.reconnect() } catch { throw error.sinkError }
    }

    public func dropRawPartitions(olderThanDays days: Int) throws(SinkError) -> Int {
        do { return try store.dropRawPartitions(olderThanDays: days) } catch { throw error.sinkError }
    }
}

extension PostgresError {
    /// The class the loader acts on, by SQLSTATE.
    public var sinkError: SinkError {
        let kind: SinkError.Kind = isConnectionFailure ? .connectionLost : isRetryable ? .conflict : isDataError ? .refusedData : .other
        return SinkError(kind, code: sqlState, message: message)
    }
}
