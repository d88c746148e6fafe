#!/bin/sh
# The compose service `tls-setup` runs this at every `docker compose up`, before the servers start.
# It keeps, in the `tls` volume (the servers', mounted at /tls; TLS_DIR here):
#   ca.crt                           the CA certificates clients trust
#   mosquitto/server.{crt,key,pem}   MQTT's TLS listener   (owner MOSQUITTO_UID, mode 0600)
#   postgres/server.{crt,key,pem}    PostgreSQL's TLS      (owner POSTGRES_UID, mode 0600)
#   kafka/server.{crt,key,pem}       Kafka's PEM key store (owner KAFKA_UID, mode 0600)
# and ca.crt alone in the `tls-ca` volume (the clients', CA_DIR here), so no client container ever
# holds a server's key. Each server's name in the suite and `localhost` are in its certificate, so
# clients check the name (sslmode=verify-full, --mqtt-tls). The CA's private key exists only while
# this runs: nothing can sign another certificate later.
#
# Everything is made anew when a file is missing, a certificate no longer chains to ca.crt, or a
# certificate or the CA has less than RENEW_DAYS left (0: only when expired). The new set is built
# aside and moved into place, so a failure leaves the old one whole. After a renewal ca.crt also
# holds the previous CA, so the servers' old certificates stay trusted until the servers restart
# (`docker compose up -d --force-recreate mosquitto postgres kafka`).
set -eu
umask 077
DIR=${TLS_DIR:-/tls}
CA_DIR=${CA_DIR:-}
DAYS=${CERT_DAYS:-825}
RENEW_DAYS=${RENEW_DAYS:-30}
SERVERS="mosquitto:${MOSQUITTO_UID:-1883} postgres:${POSTGRES_UID:-999} kafka:${KAFKA_UID:-1000}"

publish_ca() {  # the clients' copy, replaced whole
  [ -n "$CA_DIR" ] || return 0
  cp "$DIR/ca.crt" "$CA_DIR/.ca.crt.new" && chmod 644 "$CA_DIR/.ca.crt.new" && mv -f "$CA_DIR/.ca.crt.new" "$CA_DIR/ca.crt"
}
current() {
  [ -s "$DIR/ca.crt" ] || return 1
  openssl x509 -checkend $((RENEW_DAYS * 86400)) -noout -in "$DIR/ca.crt" > /dev/null || return 1
  for entry in $SERVERS; do
    name=${entry%%:*}
    for file in server.crt server.key server.pem; do [ -s "$DIR/$name/$file" ] || return 1; done
    openssl verify -CAfile "$DIR/ca.crt" "$DIR/$name/server.crt" > /dev/null 2>&1 || return 1
    openssl x509 -checkend $((RENEW_DAYS * 86400)) -noout -in "$DIR/$name/server.crt" > /dev/null || return 1
  done
}
if current; then
  publish_ca
  echo "tls-setup: certificates in $DIR are current"
  exit 0
fi

work=$(mktemp -d)
new="$DIR/.new"
trap 'rm -rf "$work" "$new"' EXIT
rm -rf "$new"; mkdir -p "$new"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$DAYS" \
  -subj "/CN=Chirpstream suite CA" -keyout "$work/ca.key" -out "$work/ca.crt" 2> /dev/null
for entry in $SERVERS; do
  name=${entry%%:*} uid=${entry#*:}
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' "$name" > "$work/$name.ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$name" \
    -keyout "$work/$name.key" -out "$work/$name.csr" 2> /dev/null
  openssl x509 -req -in "$work/$name.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
    -days "$DAYS" -extfile "$work/$name.ext" -out "$work/$name.crt" 2> /dev/null
  # Made and given their modes while root's; handed to the server's user last.
  mkdir "$new/$name"
  cp "$work/$name.crt" "$new/$name/server.crt"
  cp "$work/$name.key" "$new/$name/server.key"
  cat "$work/$name.key" "$work/$name.crt" > "$new/$name/server.pem"
  chmod 600 "$new/$name"/*
  chmod 700 "$new/$name"
  chown -R "$uid" "$new/$name"
done
rm -f "$work/ca.key"
# The new CA first; the previous one too while it is valid, for the servers not yet restarted.
cp "$work/ca.crt" "$new/ca.crt"
if [ -s "$DIR/ca.crt" ] && openssl x509 -checkend 0 -noout -in "$DIR/ca.crt" > /dev/null 2>&1; then
  openssl x509 -in "$DIR/ca.crt" >> "$new/ca.crt"
  renewed=yes
fi
chmod 644 "$new/ca.crt"
for entry in $SERVERS; do
  name=${entry%%:*}
  rm -rf "$DIR/$name"
  mv "$new/$name" "$DIR/$name"
done
mv -f "$new/ca.crt" "$DIR/ca.crt"
chmod 755 "$DIR"
publish_ca
echo "tls-setup: made a CA and certificates for mosquitto, postgres and kafka, valid $DAYS days"
if [ "${renewed:-}" = yes ]; then
  echo "tls-setup: RENEWED: restart the servers to serve the new certificates: docker compose up -d --force-recreate mosquitto postgres kafka"
fi
