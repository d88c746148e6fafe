#!/usr/bin/env bash
# make soak (not in CI): all four services on the native stack for SOAK_SECONDS (1800) with the
# sender looping over a generated sample at a steady SOAK_RATE (5000) tweets/s, each pass new
# tweets stamped with the time they are sent (--loop --restamp). Every SOAK_INTERVAL (5) seconds
# scripts/soak-sample.py writes one CSV row: throughput, publish → queryable p50/p99, every
# process's RSS and CPU, the bridge's backlog and the consumers' lag, the database's size. Then the
# sender stops, the rest drains, and scripts/soak-report.py checks the goals (RSS flat over the
# last 20 minutes, p99 under 1 s, lag bounded, no tweet lost) and draws .run/soak/soak.png.
# SOAK_PARTITIONS (1) is the topics' partition count: the local broker (Tansu, in memory) keeps
# every batch it was sent as an object and its work per fetch grows with the objects a partition
# holds, and each partition multiplies the batches (docs/benchmarks.md, "The soak"); one partition
# lets it last the half hour on two cores. SOAK_BASE_PORT (18400) is the stack's first port; the
# CSV, the figure and the logs stay in .run/soak.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BIN="$ROOT/.build/release"
DURATION="${SOAK_SECONDS:-1800}"
RATE="${SOAK_RATE:-5000}"
INTERVAL="${SOAK_INTERVAL:-5}"
BASE="${SOAK_BASE_PORT:-18400}"
export TOPIC_PARTITIONS="${SOAK_PARTITIONS:-1}"
export LD_LIBRARY_PATH="$ROOT/.tools/lib"
WORK="$ROOT/.run/soak"
S="$WORK/stack"

. "$ROOT/scripts/services.sh"

if [ -d "$S" ]; then  # a run cut short: its services and servers go before their pid files do
  service_stop sender "$S" 10; pipeline_stop "$S"
  bash "$ROOT/scripts/stack.sh" stop "$S" 2> /dev/null || true
fi
rm -rf "$WORK"; mkdir -p "$WORK"

PLOT="$ROOT/.tools/plot-venv"
if [ ! -x "$PLOT/bin/python" ] || ! "$PLOT/bin/python" -c 'import matplotlib' 2> /dev/null; then
  echo "soak: installing matplotlib (scripts/requirements/plot.txt, hashes checked)"
  rm -rf "$PLOT"; python3 -m venv "$PLOT"
  "$PLOT/bin/pip" install -q --require-hashes -r scripts/requirements/plot.txt
fi

cleanup() {
  kill $(jobs -p) 2> /dev/null || true  # the sampler, when the soak is interrupted
  service_stop sender "$S" 10; pipeline_stop "$S"
  bash "$ROOT/scripts/stack.sh" stop "$S" 2> /dev/null || true
}
trap cleanup EXIT

# A pass of the sample takes 20 s at 5 000 tweets/s; every later pass gets new ids ('~k').
"$BIN/chirp-sender" generate --count 100000 --seed 2001 --span-seconds 3600 --output "$WORK/sample.jsonl"
stack_start "$S" "$BASE" > /dev/null
set -a; . "$S/env"; set +a
LOG_LEVEL=warning pipeline_start "$S" $((BASE + 11)) soak

echo "soak: $DURATION s at $RATE tweets/s, $TOPIC_PARTITIONS partition(s) per topic, a sample every $INTERVAL s ($(nproc) cores)"
HTTP_PORT=$((BASE + 10)) INSTANCE_ID=soak LOG_LEVEL=warning \
  "$BIN/chirp-sender" --file "$WORK/sample.jsonl" --loop --restamp --rate "$RATE" --progress-seconds 0 \
  > "$S/sender.log" 2>&1 &
echo $! > "$S/sender.pid"
service_wait_ready $((BASE + 10)) || { echo "soak: chirp-sender not ready" >&2; cat "$S/sender.log" >&2; exit 1; }

python3 scripts/soak-sample.py "$S" "$DURATION" "$INTERVAL" "$WORK/soak.csv" \
  sender=$((BASE + 10)) bridge=$((BASE + 11)) categorizer=$((BASE + 12)) loader=$((BASE + 13)) &
wait $!

# Stop the sender (it waits for the broker's last acknowledgements), then let the rest drain,
# watching the loader's counter (a count of the table would load the database it waits for).
service_stop sender "$S"
done_line=$(grep 'chirp-sender: done:' "$S/sender.log" | tail -1 || true)
echo "soak: ${done_line#chirp-sender: }"
acknowledged=$(sed -n 's/.*acknowledged \([0-9]*\),.*/\1/p' <<< "$done_line")
[ -n "$acknowledged" ] || { echo "soak: the sender did not report its count" >&2; cat "$S/sender.log" >&2; exit 1; }
wait_loaded "$acknowledged" "${SOAK_DRAIN_SECONDS:-600}" $((BASE + 13)) || true
rows=$(psql -X -qAt "$POSTGRES_URL" -c 'SELECT count(*) FROM tweets')
# What is still on its way, if the drain did not finish, from the services' counters (the lag
# gauges come from watermarks, which the local broker reports wrongly): not yet taken from
# mosquitto by the bridge, not yet confirmed by Kafka, unread on each topic.
pos() { [ "$1" -gt 0 ] && echo "$1" || echo 0; }
received=$(service_metric $((BASE + 11)) chirp_bridge_received_total)
delivered=$(service_metric $((BASE + 11)) chirp_bridge_delivered_total)
backlog=$(pos $((acknowledged - received)))
queued=$(pos $((received - delivered)))
raw_lag=$(pos $((delivered - $(service_metric $((BASE + 12)) chirp_categorizer_consumed_total))))
enriched_lag=$(pos $(( $(service_metric $((BASE + 12)) chirp_categorizer_enriched_total) - $(service_metric $((BASE + 13)) chirp_loader_consumed_total) )))
dlq=$(service_metric $((BASE + 12)) chirp_dlq_total)
dropped=$(service_metric $((BASE + 12)) chirp_categorizer_dropped_total)
[ "$rows" -ge "$acknowledged" ] && backlog=0 queued=0 raw_lag=0 enriched_lag=0
echo "soak: rows $rows; still queued: MQTT ${backlog}, bridge ${queued}, tweets.raw ${raw_lag}, tweets.enriched ${enriched_lag}; dead-lettered ${dlq}, dropped ${dropped}"

"$PLOT/bin/python" scripts/soak-report.py "$WORK/soak.csv" "$WORK/soak.png" "$acknowledged" "$rows" \
  "$(( backlog + queued + raw_lag + enriched_lag ))" \
  "make soak: $((DURATION / 60)) min at $RATE tweets/s, $TOPIC_PARTITIONS partition(s), $(nproc) cores ($(date -u +%Y-%m-%d))"
