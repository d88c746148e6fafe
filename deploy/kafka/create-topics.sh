#!/bin/bash
# One-shot topic creation for the compose suite, run in the Apache Kafka image by `kafka-init`.
# Partitions bound how far the consumers scale: `--scale categorizer=N --scale loader=M` needs
# N, M <= TOPIC_PARTITIONS. Idempotent (--if-not-exists), so `docker compose up` can re-run it.
set -euo pipefail
BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:9092}"
PARTITIONS="${TOPIC_PARTITIONS:-6}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
# A broker that just became healthy may still refuse or fail to resolve for a moment: retry.
create() {
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if "$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
         --topic "$1" --partitions "$PARTITIONS" --replication-factor 1; then
      return 0
    fi
    echo "create-topics: $1 failed (attempt $attempt), retrying in 2 s"
    sleep 2
  done
  return 1
}
for topic in "${RAW_TOPIC:-tweets.raw}" "${ENRICHED_TOPIC:-tweets.enriched}" "${DLQ_TOPIC:-tweets.dlq}"; do
  create "$topic"
done
echo "create-topics: ready (${PARTITIONS} partitions each)"
