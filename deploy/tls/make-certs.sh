#!/bin/sh
# The compose service `tls-setup` runs this at every `docker compose up`, before the servers start.
# It keeps, in the `tls` volume (mounted at /tls):
#   ca.crt                      the suite's own CA, readable by all: clients verify servers with it
#   mosquitto/server.{crt,key}  MQTT's TLS listener      (owner MOSQUITTO_UID, mode 0600)
#   postgres/server.{crt,key}   PostgreSQL's TLS          (owner POSTGRES_UID, mode 0600)
#   kafka/server.pem            Kafka's PEM key store      (owner KAFKA_UID, mode 0600)
# Each server's name in the suite and `localhost` are in its certificate, so clients check the
# name (sslmode=verify-full, --mqtt-tls). The CA's private key exists only while this runs: nothing
# can mint another certificate later. Everything is made anew when a file is missing or a
# certificate has less than RENEW_DAYS left; the servers read the new ones when they restart.
set -eu
umask 077
DIR=${TLS_DIR:-/tls}
DAYS=${CERT_DAYS:-825}
RENEW_DAYS=${RENEW_DAYS:-30}
SERVERS="mosquitto:${MOSQUITTO_UID:-1883} postgres:${POSTGRES_UID:-999} kafka:${KAFKA_UID:-1000}"

current() {
  [ -s "$DIR/ca.crt" ] || return 1
  for entry in $SERVERS; do
    name=${entry%%:*}
    [ -s "$DIR/$name/server.crt" ] || return 1
    openssl x509 -checkend $((RENEW_DAYS * 86400)) -noout -in "$DIR/$name/server.crt" > /dev/null || return 1
  done
}
if current; then
  echo "tls-setup: certificates in $DIR are current"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$DAYS" \
  -subj "/CN=Chirpstream suite CA" -keyout "$work/ca.key" -out "$work/ca.crt" 2> /dev/null
for entry in $SERVERS; do
  name=${entry%%:*} uid=${entry#*:}
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' "$name" > "$work/$name.ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$name" \
    -keyout "$work/$name.key" -out "$work/$name.csr" 2> /dev/null
  openssl x509 -req -in "$work/$name.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
    -days "$DAYS" -extfile "$work/$name.ext" -out "$work/$name.crt" 2> /dev/null
  mkdir -p "$DIR/$name"
  cp "$work/$name.crt" "$DIR/$name/server.crt"
  cp "$work/$name.key" "$DIR/$name/server.key"
  cat "$work/$name.key" "$work/$name.crt" > "$DIR/$name/server.pem"
  chmod 600 "$DIR/$name"/*
  chmod 700 "$DIR/$name"
  chown -R "$uid" "$DIR/$name"
done
cp "$work/ca.crt" "$DIR/ca.crt"
chmod 644 "$DIR/ca.crt"
chmod 755 "$DIR"
echo "tls-setup: made a CA and certificates for mosquitto, postgres and kafka, valid $DAYS days"
