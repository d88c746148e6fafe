#!/bin/bash
# One-shot topic creation for the compose suite, run in the Apache Kafka image by `kafka-init`.
# Partitions bound how far the consumers scale: `--scale categorizer=N --scale loader=M` needs
# N, M <= TOPIC_PARTITIONS. Idempotent (--if-not-exists), so `docker compose up` can re-run it.
set -euo pipefail
BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:9092}"
PARTITIONS="${TOPIC_PARTITIONS:-6}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
for topic in "${RAW_TOPIC:-tweets.raw}" "${ENRICHED_TOPIC:-tweets.enriched}" "${DLQ_TOPIC:-tweets.dlq}"; do
  "$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "$topic" --partitions "$PARTITIONS" --replication-factor 1
done
"$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --describe \
  --topic "${RAW_TOPIC:-tweets.raw}"
