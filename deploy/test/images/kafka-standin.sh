#!/bin/bash
# Tansu on 19092 (plain, for kafka-init's and the healthcheck's Tansu client), advertising
# kafka:9092, where stunnel terminates TLS with tls-setup's certificate for kafka.
set -euo pipefail
cat > /tmp/stunnel.conf <<CONF
foreground = yes
pid =
[kafka]
accept = 0.0.0.0:9092
connect = 127.0.0.1:19092
cert = /tls/kafka/server.crt
key = /tls/kafka/server.key
sslVersionMin = TLSv1.2
CONF
stunnel /tmp/stunnel.conf &
exec /usr/local/bin/tansu broker --listener-url tcp://0.0.0.0:19092 --advertised-listener-url tcp://kafka:9092 \
  --storage-engine memory://tansu/
