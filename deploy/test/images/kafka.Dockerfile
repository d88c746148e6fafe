# Stand-in for apache/kafka in the compose test: the Kafka-compatible broker Tansu behind stunnel,
# so that the services' Kafka connections are TLS with the suite's certificate, checked against
# its CA and the name kafka, as in production (Tansu's own TLS does not work with librdkafka, and
# it has no working SASL: the test runs without logins and ACLs, see compose.override.yml); plus the
# two Kafka scripts kafka-init and the healthcheck call, answered through Tansu's own client.
FROM localhost/chirp-test/debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends stunnel4 \
 && rm -rf /var/lib/apt/lists/*
COPY tansu /usr/local/bin/tansu
COPY kafka-standin.sh /usr/local/bin/kafka-standin.sh
COPY kafka-topics.sh kafka-broker-api-versions.sh /opt/kafka/bin/
USER 1000
ENTRYPOINT ["/bin/bash", "/usr/local/bin/kafka-standin.sh"]
