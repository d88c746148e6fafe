#!/bin/bash
# The compose service `kafka` (apache/kafka image) starts through this: it writes the broker's
# configuration and runs it. Every client connection is SASL_SSL: TLS with the certificate
# tls-setup made (names kafka and localhost), then a SCRAM-SHA-512 login; the StandardAuthorizer
# lets each principal do what kafka-init's ACLs grant and nothing else. The controller listener
# is on the container's loopback only: the broker reaches its own controller there, unauthenticated.
# The admin's SCRAM credential is written into the metadata when the volume is formatted (the
# first start); kafka-init sets the services' credentials at every `up`.
set -euo pipefail
secret() {  # NAME: the value of NAME, or of the file NAME_FILE names; empty or placeholder refused
  local file_var="${1}_FILE" value
  if [ -n "${!file_var:-}" ]; then value=$(cat "${!file_var}"); else value="${!1:-}"; fi
  [ -n "$value" ] || { echo "kafka: $1 is empty: set it in .env (see .env.example)" >&2; return 1; }
  case "${value,,}" in change-me*) echo "kafka: $1 is a placeholder ('change-me…'): set a real secret" >&2; return 1 ;; esac
  [[ $value =~ ^[A-Za-z0-9._~-]+$ ]] || { echo "kafka: $1 may hold letters, digits, '.', '_', '~' and '-' only (it goes into the broker's configuration)" >&2; return 1; }
  printf '%s' "$value"
}
ADMIN_PASSWORD=$(secret KAFKA_ADMIN_PASSWORD)
KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
CONF=${KAFKA_CONF_DIR:-/tmp/chirp-kafka}
DATA=${KAFKA_DATA_DIR:-/var/lib/kafka/data}
umask 077
mkdir -p "$CONF"
cat > "$CONF/server.properties" <<PROPERTIES
node.id=1
process.roles=broker,controller
controller.quorum.voters=1@localhost:9093
controller.listener.names=CONTROLLER
listeners=INTERNAL://:9092,CONTROLLER://localhost:9093,HOST://:9094
advertised.listeners=INTERNAL://kafka:9092,HOST://localhost:${KAFKA_PORT:-9094}
listener.security.protocol.map=INTERNAL:SASL_SSL,HOST:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=INTERNAL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="chirp-admin" password="$ADMIN_PASSWORD";
listener.name.host.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=/tls/kafka/server.pem
ssl.truststore.type=PEM
ssl.truststore.location=/tls/ca.crt
ssl.enabled.protocols=TLSv1.3,TLSv1.2
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:chirp-admin;User:ANONYMOUS
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=${KAFKA_RETENTION_HOURS:-168}
log.dirs=$DATA
PROPERTIES
# The admin's client settings, for kafka-init's tools and the health check (this container only).
cat > "$CONF/admin.properties" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="chirp-admin" password="$ADMIN_PASSWORD";
ssl.truststore.type=PEM
ssl.truststore.location=/tls/ca.crt
PROPERTIES
if [ ! -f "$DATA/meta.properties" ]; then
  # The tool takes the credential only as an argument: for the second it runs, the process list
  # of the host shows it (a volume formatted before this script has no admin credential: see
  # docs/security.md, Upgrading).
  "$KAFKA_BIN/kafka-storage.sh" format --ignore-formatted -t "$("$KAFKA_BIN/kafka-storage.sh" random-uuid)" \
    -c "$CONF/server.properties" --add-scram "SCRAM-SHA-512=[name=chirp-admin,password=$ADMIN_PASSWORD]" > /dev/null
  echo "kafka: storage formatted with the admin's SCRAM credential"
fi
exec "$KAFKA_BIN/kafka-server-start.sh" "$CONF/server.properties"
