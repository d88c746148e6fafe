# Stand-in for apache/kafka in the compose test: the Kafka-compatible broker Tansu, plus the two
# Kafka scripts the compose file calls (/opt/kafka/bin/kafka-broker-api-versions.sh for the
# healthcheck, kafka-topics.sh for kafka-init), answered through Tansu's own client.
FROM localhost/chirp-test/debian:bookworm
COPY tansu /usr/local/bin/tansu
COPY kafka-topics.sh kafka-broker-api-versions.sh /opt/kafka/bin/
USER 1000
ENTRYPOINT ["/usr/local/bin/tansu", "broker", "--listener-url", "tcp://0.0.0.0:9092", "--advertised-listener-url", "tcp://kafka:9092", "--storage-engine", "memory://tansu/"]
