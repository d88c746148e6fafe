#!/bin/bash
# --bootstrap-server HOST:PORT → a real request to the broker (list topics).
set -euo pipefail
server=localhost:9092
while [ $# -gt 0 ]; do case "$1" in --bootstrap-server) server=$2; shift 2 ;; *) shift ;; esac; done
exec /usr/local/bin/tansu topic list --broker "tcp://$server" > /dev/null
