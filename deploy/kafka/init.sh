#!/bin/bash
# kafka-init, run in the Apache Kafka image at every `docker compose up` once the broker is healthy:
#   1. each service's SCRAM credential from its secret (a changed secret is a rotated password);
#   2. the three topics, TOPIC_PARTITIONS partitions each (--if-not-exists; partitions bound how
#      far the consumers scale: `--scale categorizer=N --scale loader=M` needs N, M <= partitions);
#   3. ACLs: each principal may do its service's part and nothing else (the broker refuses
#      whatever no ACL allows):
#        chirp-bridge       writes tweets.raw
#        chirp-categorizer  reads tweets.raw (group chirp-categorizer), writes tweets.enriched, tweets.dlq
#        chirp-loader       reads tweets.enriched (group chirp-loader)
#        chirp-druid        reads tweets.enriched (profile druid; when DRUID_KAFKA_PASSWORD is set)
#        chirp-connect      writes tweets.raw; everything on its own _connect-* and _confluent-* topics,
#                           reads its groups chirp-connect and connect-* (profile kafka-connect; when
#                           CONNECT_KAFKA_PASSWORD is set)
#      An optional principal whose secret is empty loses its credential.
#      A service may also create its own topics (they create them at start if missing).
# KAFKA_SECURITY=none skips 1 and 3, for a broker without SASL (the compose test's stand-in).
set -euo pipefail
BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:9092}"
PARTITIONS="${TOPIC_PARTITIONS:-6}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
RAW="${RAW_TOPIC:-tweets.raw}" ENRICHED="${ENRICHED_TOPIC:-tweets.enriched}" DLQ="${DLQ_TOPIC:-tweets.dlq}"
secret() {  # NAME [optional]: the value of NAME or of the file NAME_FILE names
  local file_var="${1}_FILE" value
  if [ -n "${!file_var:-}" ]; then value=$(cat "${!file_var}"); else value="${!1:-}"; fi
  if [ -z "$value" ]; then
    [ "${2:-}" = optional ] && return 0
    echo "kafka-init: $1 is empty: set it in .env (see .env.example)" >&2; return 1
  fi
  case "${value,,}" in change-me*) echo "kafka-init: $1 is a placeholder ('change-me…'): set a real secret" >&2; return 1 ;; esac
  [[ $value =~ ^[A-Za-z0-9._~-]+$ ]] || { echo "kafka-init: $1 may hold letters, digits, '.', '_', '~' and '-' only" >&2; return 1; }
  printf '%s' "$value"
}
# A broker that just became healthy may still refuse or fail to resolve for a moment: retry.
retry() {
  local attempt
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    "$@" > /tmp/kafka-init.out 2>&1 && return 0
    echo "kafka-init: $(head -c 300 /tmp/kafka-init.out) (attempt $attempt), retrying in 2 s"
    sleep 2
  done
  return 1
}

umask 077
CLIENT=()
if [ "${KAFKA_SECURITY:-sasl}" != none ]; then
  ADMIN_PASSWORD=$(secret KAFKA_ADMIN_PASSWORD)
  cat > /tmp/admin.properties <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="chirp-admin" password="$ADMIN_PASSWORD";
ssl.truststore.type=PEM
ssl.truststore.location=${KAFKA_CA_FILE:-/tls/ca.crt}
PROPERTIES
  CLIENT=(--command-config /tmp/admin.properties)
  # One assignment each: a failed secret inside an array literal would not stop the script.
  declare -A PASSWORDS
  SET=()
  PASSWORDS[chirp-bridge]=$(secret BRIDGE_KAFKA_PASSWORD)
  PASSWORDS[chirp-categorizer]=$(secret CATEGORIZER_KAFKA_PASSWORD)
  PASSWORDS[chirp-loader]=$(secret LOADER_KAFKA_PASSWORD)
  PASSWORDS[chirp-druid]=$(secret DRUID_KAFKA_PASSWORD optional)
  PASSWORDS[chirp-connect]=$(secret CONNECT_KAFKA_PASSWORD optional)
  for user in "${!PASSWORDS[@]}"; do
    if [ -z "${PASSWORDS[$user]}" ]; then
      # An optional principal no longer wanted cannot log in any more (its ACLs stay, inert).
      "$KAFKA_BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" "${CLIENT[@]}" --alter \
        --entity-type users --entity-name "$user" --delete-config SCRAM-SHA-512 > /dev/null 2>&1 || true
      continue
    fi
    SET+=("$user")
    # The credential goes to the tool through its own properties file, not an argument.
    printf 'SCRAM-SHA-512=[password=%s]\n' "${PASSWORDS[$user]}" > /tmp/scram.config
    retry "$KAFKA_BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" "${CLIENT[@]}" --alter \
      --entity-type users --entity-name "$user" --add-config-file /tmp/scram.config
  done
  rm -f /tmp/scram.config
fi

for topic in "$RAW" "$ENRICHED" "$DLQ"; do
  retry "$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" "${CLIENT[@]}" --create --if-not-exists \
    --topic "$topic" --partitions "$PARTITIONS" --replication-factor 1
done

if [ "${KAFKA_SECURITY:-sasl}" != none ]; then
  acl() {  # principal, then kafka-acls.sh arguments naming operations and resources
    local user=$1; shift
    retry "$KAFKA_BIN/kafka-acls.sh" --bootstrap-server "$BOOTSTRAP" "${CLIENT[@]}" --add \
      --allow-principal "User:$user" "$@"
  }
  acl chirp-bridge --operation Write --operation Describe --operation Create --topic "$RAW"
  acl chirp-categorizer --operation Read --operation Describe --operation Create --topic "$RAW"
  acl chirp-categorizer --operation Write --operation Describe --operation Create --topic "$ENRICHED" --topic "$DLQ"
  acl chirp-categorizer --operation Read --group "${CATEGORIZER_GROUP_ID:-chirp-categorizer}"
  acl chirp-loader --operation Read --operation Describe --operation Create --topic "$ENRICHED"
  acl chirp-loader --operation Read --group "${LOADER_GROUP_ID:-chirp-loader}"
  if [ -n "${PASSWORDS[chirp-druid]}" ]; then
    acl chirp-druid --operation Read --operation Describe --topic "$ENRICHED"
    acl chirp-druid --operation Read --group kafka-supervisor- --resource-pattern-type prefixed
  fi
  if [ -n "${PASSWORDS[chirp-connect]}" ]; then
    acl chirp-connect --operation Write --operation Describe --topic "$RAW"
    acl chirp-connect --operation All --topic _connect- --resource-pattern-type prefixed
    acl chirp-connect --operation All --topic _confluent- --resource-pattern-type prefixed
    acl chirp-connect --operation Read --group chirp-connect
    acl chirp-connect --operation Read --group connect- --resource-pattern-type prefixed
  fi
  echo "kafka-init: credentials and ACLs set for ${SET[*]}"
fi
echo "kafka-init: ready ($RAW, $ENRICHED, $DLQ with ${PARTITIONS} partitions each)"
