import CRdKafka

/// librdkafka's built-in mock cluster: brokers inside this process, for tests of the adapter
/// (groups and rebalances included) without a Kafka server. It lives as long as this object.
public final class KafkaMockCluster {
    private let handle: OpaquePointer
    private let cluster: OpaquePointer
    /// Give this to the clients under test as `bootstrap.servers`.
    public let bootstrapServers: String

    public init(brokers: Int32 = 3) throws(KafkaError) {
        guard let conf = rd_kafka_conf_new() else { throw .configuration("rd_kafka_conf_new failed") }
        var errorBuffer = [CChar](repeating: 0, count: 512)
        guard rd_kafka_conf_set(conf, "test.mock.num.brokers", String(brokers), &errorBuffer, errorBuffer.count) == RD_KAFKA_CONF_OK,
              let handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorBuffer, errorBuffer.count)
        else {
            rd_kafka_conf_destroy(conf)
            throw .configuration("mock cluster: \(KafkaError.text(errorBuffer))")
        }
        guard let cluster = rd_kafka_handle_mock_cluster(handle), let servers = rd_kafka_mock_cluster_bootstraps(cluster) else {
            rd_kafka_destroy(handle)
            throw .configuration("mock cluster: no cluster on the handle")
        }
        self.handle = handle
        self.cluster = cluster
        bootstrapServers = String(cString: servers)
    }

    deinit {
        rd_kafka_destroy(handle)
    }

    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, partitions, replicationFactor)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "creating mock topic \(name)") }
    }
}
