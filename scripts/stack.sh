#!/usr/bin/env bash
# Starts or stops the servers Chirpstream runs against, on loopback, in a private state folder:
#   scripts/stack.sh start STATE_DIR BASE_PORT   mosquitto on BASE (and over TLS on BASE+4, with a
#                                                 CA of the stack's own: STACK_MQTT_TLS_PORT and
#                                                 STACK_CA_FILE in DIR/env), Kafka (Tansu) on BASE+1,
#                                                 PostgreSQL on BASE+2 (database chirp; roles chirp, the
#                                                 owner, chirp_writer, the loader, and chirp_reader; the
#                                                 schema comes from `chirp migrate`)
#   scripts/stack.sh stop STATE_DIR
#   scripts/stack.sh restart-mqtt STATE_DIR [kill]  stops mosquitto (SIGTERM: it saves its sessions;
#                                                 with kill: SIGKILL) and starts it again on the same port
#   scripts/stack.sh restart-kafka STATE_DIR [kill]  stops the Kafka broker (SIGTERM; with kill:
#                                                 SIGKILL) and starts it again
#   scripts/stack.sh restart-postgres STATE_DIR   stops PostgreSQL at once (immediate: no checkpoint,
#                                                 connections cut) and starts it again
# With KAFKA_STORAGE=s3 at start, Tansu keeps its data in a local S3 server (moto, on BASE_PORT+3,
# from scripts/setup.sh s3) instead of memory, so it survives restart-kafka.
#   scripts/stack.sh env STATE_DIR               prints the services' environment variables
# Used by `make up/down/demo/bench` and by the integration tests, so every run uses one recipe.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
cmd="${1:?usage: stack.sh start|stop|restart-mqtt|env STATE_DIR [BASE_PORT]}"
STATE="${2:?state folder required}"

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_kafka() {  # state: memory or S3 storage, as chosen at start
  local port
  port=$(sed -n 's/^KAFKA_BROKERS=127.0.0.1://p' "$1/env")
  if [ -f "$1/s3.port" ]; then
    env AWS_ACCESS_KEY_ID=chirp AWS_SECRET_ACCESS_KEY=chirp AWS_DEFAULT_REGION=eu-west-2 \
      AWS_ENDPOINT="http://127.0.0.1:$(cat "$1/s3.port")" AWS_ALLOW_HTTP=true \
      "$ROOT/.tools/bin/tansu" broker --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" --storage-engine s3://tansu/ >> "$1/kafka.log" 2>&1 &
  else
    "$ROOT/.tools/bin/tansu" broker --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" --storage-engine memory://tansu/ >> "$1/kafka.log" 2>&1 &
  fi
  echo $! > "$1/kafka.pid"
}

start_postgres() {  # state port
  as_postgres "$PG_BIN/pg_ctl" -D "$1/pg/data" -l "$1/pg/log" -w -o \
    "-p $2 -k $1/pg -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$1/pg/server.crt -c ssl_key_file=$1/pg/server.key -c fsync=off -c synchronous_commit=off -c shared_buffers=256MB" \
    start > /dev/null
}

start_mosquitto() {  # state
  mosquitto -c "$1/mosquitto/mosquitto.conf" >> "$1/mosquitto.log" 2>&1 &
  echo $! > "$1/mosquitto.pid"
}

stop_pid_file() {  # pid file: SIGTERM, up to 5 s, then SIGKILL
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$1"
}

wait_port() {  # host port seconds what
  local deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then echo "stack: $4 did not open $1:$2 within $3 s" >&2; return 1; fi
    sleep 0.1
  done
}

case "$cmd" in
start)
  BASE="${3:?base port required}"
  MQTT_PORT=$BASE; KAFKA_PORT=$((BASE + 1)); PG_PORT=$((BASE + 2))
  mkdir -p "$STATE"; STATE="$(cd "$STATE" && pwd)"; chmod 755 "$STATE"
  cat > "$STATE/env" <<EOF
MQTT_HOST=127.0.0.1
MQTT_PORT=$MQTT_PORT
KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
LD_LIBRARY_PATH=$ROOT/.tools/lib
EOF
  # Secrets: random, readable by the owner only, never on a command line. Each PostgreSQL role's
  # password is in a libpq password file of its own, which its URL names (passfile=).
  (umask 077; mkdir -p "$STATE/secrets"
   for name in mqtt-sender mqtt-bridge postgres chirp chirp_writer chirp_reader; do
     head -c 24 /dev/urandom | base64 | tr '+/' '-_' > "$STATE/secrets/$name"
   done
   for role in postgres chirp chirp_writer chirp_reader; do
     printf '*:%s:*:%s:%s\n' "$PG_PORT" "$role" "$(cat "$STATE/secrets/$role")" > "$STATE/secrets/$role.pgpass"
   done)
  echo "$PG_PORT" > "$STATE/pg.port"
  pg_url() { echo "postgresql://$1@127.0.0.1:$PG_PORT/$2?passfile=$STATE/secrets/$1.pgpass"; }
  cat >> "$STATE/env" <<EOF
POSTGRES_URL=$(pg_url chirp_writer chirp)
POSTGRES_OWNER_URL=$(pg_url chirp chirp)
CHIRP_POSTGRES_URL=$(pg_url chirp_reader chirp)
POSTGRES_ADMIN_URL=$(pg_url postgres chirp)
EOF
  cat >> "$STATE/env" <<EOF
SENDER_MQTT_USERNAME=chirp-sender
SENDER_MQTT_PASSWORD_FILE=$STATE/secrets/mqtt-sender
BRIDGE_MQTT_USERNAME=chirp-bridge
BRIDGE_MQTT_PASSWORD_FILE=$STATE/secrets/mqtt-bridge
EOF
  # mosquitto: every client logs in; the sender may only publish tweets, the bridge only read
  # them (the password file is written in plain text, then hashed in place). The broker uses the
  # login name as client id, so only the bridge's password opens the bridge's session. No queue limit for
  # persistent sessions (the default 1000 drops QoS 1 messages of a subscriber that falls
  # behind), persistence for restarts.
  mkdir -p "$STATE/mosquitto"
  (umask 077
   printf 'chirp-sender:%s\nchirp-bridge:%s\n' "$(cat "$STATE/secrets/mqtt-sender")" "$(cat "$STATE/secrets/mqtt-bridge")" > "$STATE/mosquitto/passwd"
   mosquitto_passwd -U "$STATE/mosquitto/passwd"
   printf 'user chirp-sender\ntopic write tweets\n\nuser chirp-bridge\ntopic read tweets\n' > "$STATE/mosquitto/acl")
  cat > "$STATE/mosquitto/mosquitto.conf" <<EOF
listener $MQTT_PORT 127.0.0.1
allow_anonymous false
use_username_as_clientid true
password_file $STATE/mosquitto/passwd
acl_file $STATE/mosquitto/acl
max_queued_messages 0
max_inflight_messages 0
persistence true
persistence_location $STATE/mosquitto/
autosave_interval 5
EOF
  # A TLS listener too, with a certificate for the name localhost (not 127.0.0.1) from a CA made
  # here, whose key is thrown away once it has signed. PostgreSQL serves the same certificate.
  mkdir -p "$STATE/tls"
  (cd "$STATE/tls" && umask 077 &&
   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=Chirpstream stack CA" \
     -keyout ca.key -out ca.crt &&
   openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr &&
   printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext &&
   openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile server.ext -out server.crt &&
   rm -f ca.key ca.srl server.csr server.ext && chmod 644 ca.crt server.crt &&
   cp -p server.crt pg-server.crt && cp -p server.key pg-server.key) > "$STATE/tls.log" 2>&1 \
    || { echo "stack: making the TLS certificates failed:" >&2; cat "$STATE/tls.log" >&2; exit 1; }
  mv "$STATE/tls/server.key" "$STATE/tls/server.crt" "$STATE/mosquitto/"
  cat >> "$STATE/mosquitto/mosquitto.conf" <<EOF
listener $((BASE + 4)) 127.0.0.1
certfile $STATE/mosquitto/server.crt
keyfile $STATE/mosquitto/server.key
tls_version tlsv1.2
EOF
  cat >> "$STATE/env" <<EOF
STACK_MQTT_TLS_PORT=$((BASE + 4))
STACK_CA_FILE=$STATE/tls/ca.crt
EOF
  [ "$(id -u)" -eq 0 ] && chown -R mosquitto "$STATE/mosquitto" 2>/dev/null || true
  start_mosquitto "$STATE"

  if [ "${KAFKA_STORAGE:-memory}" = s3 ]; then
    [ -x "$ROOT/.tools/s3/bin/moto_server" ] || { echo "stack: no S3 server; run scripts/setup.sh s3" >&2; exit 1; }
    echo $((BASE + 3)) > "$STATE/s3.port"
    "$ROOT/.tools/s3/bin/moto_server" -H 127.0.0.1 -p $((BASE + 3)) > "$STATE/s3.log" 2>&1 &
    echo $! > "$STATE/s3.pid"
    wait_port 127.0.0.1 $((BASE + 3)) 30 "the S3 server"
    "$ROOT/.tools/s3/bin/python" -c "import boto3; boto3.client('s3', endpoint_url='http://127.0.0.1:$((BASE + 3))', aws_access_key_id='chirp', aws_secret_access_key='chirp', region_name='eu-west-2').create_bucket(Bucket='tansu', CreateBucketConfiguration={'LocationConstraint': 'eu-west-2'})"
  fi
  start_kafka "$STATE"

  # PostgreSQL: every login needs its password (SCRAM), the superuser's included; the roles
  # and the database from the recipe compose uses (deploy/postgres/roles.sql).
  mkdir -p "$STATE/pg"; [ "$(id -u)" -eq 0 ] && chown postgres "$STATE/pg"; chmod 700 "$STATE/pg"
  mv "$STATE/tls/pg-server.crt" "$STATE/pg/server.crt"; mv "$STATE/tls/pg-server.key" "$STATE/pg/server.key"
  [ "$(id -u)" -eq 0 ] && chown postgres "$STATE/pg/server.crt" "$STATE/pg/server.key"
  (umask 077; cp "$STATE/secrets/postgres" "$STATE/pg/pwfile")
  [ "$(id -u)" -eq 0 ] && chown postgres "$STATE/pg/pwfile"
  as_postgres "$PG_BIN/initdb" -D "$STATE/pg/data" -U postgres -A scram-sha-256 --pwfile="$STATE/pg/pwfile" \
    --encoding=UTF8 --locale=C.UTF-8 > "$STATE/pg-init.log" 2>&1
  rm -f "$STATE/pg/pwfile"
  start_postgres "$STATE" "$PG_PORT"
  CHIRP_OWNER_PASSWORD=$(cat "$STATE/secrets/chirp") CHIRP_WRITER_PASSWORD=$(cat "$STATE/secrets/chirp_writer") \
  CHIRP_READER_PASSWORD=$(cat "$STATE/secrets/chirp_reader") \
    psql -X -q -f "$ROOT/deploy/postgres/roles.sql" "$(pg_url postgres postgres)" > "$STATE/pg-roles.log" 2>&1 \
    || { echo "stack: creating the database roles failed:" >&2; cat "$STATE/pg-roles.log" >&2; exit 1; }
  wait_port 127.0.0.1 "$MQTT_PORT" 10 mosquitto
  wait_port 127.0.0.1 $((BASE + 4)) 10 "mosquitto (TLS)"
  wait_port 127.0.0.1 "$KAFKA_PORT" 10 Kafka
  echo "stack: mosquitto :$MQTT_PORT, Kafka (Tansu) :$KAFKA_PORT, PostgreSQL :$PG_PORT, state $STATE"
  ;;
stop)
  [ -d "$STATE" ] || exit 0
  for name in mosquitto kafka s3; do stop_pid_file "$STATE/$name.pid"; done
  if [ -f "$STATE/pg/data/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$STATE/pg/data" -m immediate -w stop > /dev/null 2>&1 || true
  fi
  ;;
restart-mqtt)
  [ "${3:-}" = kill ] && kill -KILL "$(cat "$STATE/mosquitto.pid")" 2>/dev/null
  stop_pid_file "$STATE/mosquitto.pid"
  start_mosquitto "$STATE"
  wait_port 127.0.0.1 "$(sed -n 's/^MQTT_PORT=//p' "$STATE/env")" 10 mosquitto
  ;;
restart-kafka)
  [ "${3:-}" = kill ] && kill -KILL "$(cat "$STATE/kafka.pid")" 2>/dev/null
  stop_pid_file "$STATE/kafka.pid"
  start_kafka "$STATE"
  wait_port 127.0.0.1 "$(sed -n 's/^KAFKA_BROKERS=127.0.0.1://p' "$STATE/env")" 10 Kafka
  ;;
restart-postgres)
  as_postgres "$PG_BIN/pg_ctl" -D "$STATE/pg/data" -m immediate -w stop > /dev/null
  start_postgres "$STATE" "$(cat "$STATE/pg.port")"
  ;;
env)
  cat "$STATE/env"
  ;;
*)
  echo "usage: stack.sh start|stop|restart-mqtt|restart-kafka|restart-postgres|env STATE_DIR [BASE_PORT]" >&2; exit 64 ;;
esac
