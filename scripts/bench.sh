#!/usr/bin/env bash
# make bench: throughput, latency and memory of the pipeline on this machine (release build).
#   1. each stage alone, on one stack: sender → MQTT (into the bridge's persistent session), then
#      bridge, categorizer and loader each draining their whole input with nothing else running;
#   2. end to end on a fresh stack: all four services, BENCH_COUNT tweets published as fast as the
#      broker acknowledges; sustained tweets/s and publish → queryable latency from the rows'
#      published_at / loaded_at; every service's peak RSS (VmHWM);
#   3. the pure logic (parse + hashtags + categories) on one core: chirp-bench;
#   4. the analytics store alone: BENCH_STORE_TWEETS generated tweets loaded through the loader's
#      statements, 30 days of rollups, the chirp CLI's queries, a recompute of every tweet
#      (chirp-bench store), and the wall time of `chirp trends --last 1h` as a user runs it.
# Environment: BENCH_COUNT (200000), BENCH_BASE_PORT (18000), BENCH_STORE_TWEETS (1000000),
# BENCH_LOADERS (loader instances end to end, one consumer group: 1), BENCH_E2E_RUNS (end-to-end
# runs, each on a fresh stack, summarized when more than one: 1), BENCH_PACED_RATE (one more
# end-to-end run with the sender paced at this many tweets/s, below capacity, for the latency a
# stream under the pipeline's capacity sees: 10000; 0 skips it);
# BENCH_V11 (one more end-to-end run on the same tweets as v1.1 statuses, `generate --shape v1.1`,
# about 2.5 times the bytes of the v2 corpus: 1; 0 skips it);
# BENCH_STAGES, BENCH_E2E, BENCH_PURE, BENCH_STORE (each 1; 0 skips that part).
# Each end-to-end run prints every process's CPU per tweet and two ceilings on this machine's
# cores: all of it together (cores ÷ the total CPU per tweet) and the servers alone (cores ÷
# mosquitto + Kafka + PostgreSQL per tweet, what the services could reach if they cost nothing).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BIN="$ROOT/.build/release"
N="${BENCH_COUNT:-200000}"
BASE="${BENCH_BASE_PORT:-18000}"
export LD_LIBRARY_PATH="$ROOT/.tools/lib"
WORK="$ROOT/.run/bench"
rm -rf "$WORK"; mkdir -p "$WORK"

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }
rate() { python3 -c "print(f'{$1 / ($3 - $2):,.0f}')"; }
cpu_seconds() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pids_of_stack() {  # state: mosquitto kafka postgres(postmaster)
  echo "mosquitto:$(cat "$1/mosquitto.pid") kafka:$(cat "$1/kafka.pid") postgres:$(head -1 "$1/pg/data/postmaster.pid")"
}
cpu_snapshot() {  # "name:pid ..." → "name:cpu ..." (postgres: all its processes)
  for entry in $1; do
    name=${entry%%:*}; pid=${entry#*:}
    if [ "$name" = postgres ]; then
      total=0; for p in $pid $(pgrep -P "$pid"); do total=$(python3 -c "print($total + $(cpu_seconds "$p"))"); done
      echo -n "$name:$total "
    else
      echo -n "$name:$(cpu_seconds "$pid") "
    fi
  done
}
peak_rss_mb() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"; }

. "$ROOT/scripts/services.sh"

start() {  # name[@k] port state
  local instance=bench
  [[ $1 == *@* ]] && instance="bench${1#*@}"
  service_start "$1" "$2" "$3" INSTANCE_ID="$instance" LOG_LEVEL=warning
  service_wait_ready "$2" || { echo "bench: chirp-$1 not ready" >&2; cat "$3/$1.log" >&2; return 1; }
}

stop() { service_stop "$1" "$2"; }  # name state

cleanup() {
  for state in "$WORK/stages" "$WORK"/e2e-* "$WORK/store"; do
    for s in bridge categorizer loader; do service_stop "$s" "$state" 0; done
    for f in "$state"/loader@*.pid; do [ -e "$f" ] && service_stop "$(basename "$f" .pid)" "$state" 0; done
    bash "$ROOT/scripts/stack.sh" stop "$state" 2>/dev/null || true
  done
}
trap cleanup EXIT

echo "bench: generating $N tweets"
"$BIN/chirp-sender" generate --count "$N" --seed 1001 --span-seconds 3600 --output "$WORK/main.jsonl"
"$BIN/chirp-sender" generate --count 2000 --seed 1002 --span-seconds 3600 --output "$WORK/warmup.jsonl"
echo "bench: input $(du -h "$WORK/main.jsonl" | cut -f1), $(nproc) cores"
if [ "${BENCH_V11:-1}" = 1 ] && [ "${BENCH_E2E:-1}" = 1 ]; then
  "$BIN/chirp-sender" generate --count "$N" --seed 1001 --span-seconds 3600 --shape v1.1 --output "$WORK/main-v11.jsonl"
  echo "bench: the same tweets as v1.1 statuses: $(du -h "$WORK/main-v11.jsonl" | cut -f1)"
fi

# ---------------------------------------------------------------- stages alone
if [ "${BENCH_STAGES:-1}" = 1 ]; then
S="$WORK/stages"
stack_start "$S" "$BASE" > /dev/null
set -a; . "$S/env"; set +a
start bridge $((BASE + 11)) "$S"; stop bridge "$S"   # creates the persistent session and topics

t0=$(now)
HTTP_PORT=0 LOG_LEVEL=warning "$BIN/chirp-sender" --file "$WORK/main.jsonl" --progress-seconds 0 > "$S/sender.log" 2>&1 &
SPID=$!; SENDER_RSS=0
while kill -0 $SPID 2>/dev/null; do r=$(peak_rss_mb $SPID); [ "$r" != "?" ] && SENDER_RSS=$r; sleep 0.2; done
wait $SPID
t1=$(now)
echo "stage sender → MQTT:         $(rate "$N" "$t0" "$t1") tweets/s ($(elapsed "$t0" "$t1") s), sender peak RSS ${SENDER_RSS} MB"

start bridge $((BASE + 11)) "$S"; wait_counter chirp_bridge_received_total 1 60 0.05 $((BASE + 11)); t0=$(now)
wait_counter chirp_bridge_delivered_total "$N" 600 0.05 $((BASE + 11)); t1=$(now)
echo "stage bridge (MQTT → Kafka): $(rate "$N" "$t0" "$t1") tweets/s ($(elapsed "$t0" "$t1") s from the first message), peak RSS $(peak_rss_mb "$(cat "$S/bridge.pid")") MB"
stop bridge "$S"

start categorizer $((BASE + 12)) "$S"; wait_counter chirp_categorizer_consumed_total 1 60 0.05 $((BASE + 12)); t0=$(now)
wait_counter chirp_categorizer_enriched_total "$N" 600 0.05 $((BASE + 12)); t1=$(now)
echo "stage categorizer:           $(rate "$N" "$t0" "$t1") tweets/s ($(elapsed "$t0" "$t1") s from the first record), peak RSS $(peak_rss_mb "$(cat "$S/categorizer.pid")") MB"
stop categorizer "$S"

start loader $((BASE + 13)) "$S"; wait_counter chirp_loader_consumed_total 1 60 0.05 $((BASE + 13)); t0=$(now)
wait_counter chirp_loader_inserted_total "$N" 600 0.05 $((BASE + 13)); t1=$(now)
echo "stage loader (→ PostgreSQL): $(rate "$N" "$t0" "$t1") tweets/s ($(elapsed "$t0" "$t1") s from the first record), peak RSS $(peak_rss_mb "$(cat "$S/loader.pid")") MB"
stop loader "$S"
bash scripts/stack.sh stop "$S"
fi

# ---------------------------------------------------------------- end to end
# One end-to-end run on a fresh stack in state folder $1, the sender paced at $2 tweets/s (0: as
# fast as the broker acknowledges), replaying $3 (the v2 corpus by default); appends its wall rate
# and CPU per tweet to WALL_RATES and CPU_TOTALS.
end_to_end() {
E="$1"; PACE="$2"; CORPUS="${3:-$WORK/main.jsonl}"
stack_start "$E" $((BASE + 50)) > /dev/null
set -a; . "$E/env"; set +a
start bridge $((BASE + 61)) "$E"; start categorizer $((BASE + 62)) "$E"; start loader $((BASE + 63)) "$E"
LOADERS="${BENCH_LOADERS:-1}"
for k in $(seq 2 "$LOADERS"); do start "loader@$k" $((BASE + 70 + k)) "$E"; done  # more members of the group
HTTP_PORT=0 LOG_LEVEL=warning "$BIN/chirp-sender" --file "$WORK/warmup.jsonl" --progress-seconds 0 > "$E/warmup.log" 2>&1
[ "$(wait_for_tweets "$POSTGRES_URL" 2000 120)" -ge 2000 ]   # groups joined, caches warm

PIDS="bridge:$(cat "$E/bridge.pid") categorizer:$(cat "$E/categorizer.pid") loader:$(cat "$E/loader.pid") $(pids_of_stack "$E")"
for k in $(seq 2 "$LOADERS"); do PIDS="$PIDS loader@$k:$(cat "$E/loader@$k.pid")"; done
CPU0=$(cpu_snapshot "$PIDS")
t0=$(now)
HTTP_PORT=0 LOG_LEVEL=warning "$BIN/chirp-sender" --file "$CORPUS" --rate "$PACE" --progress-seconds 0 > "$E/sender.log" 2>&1 &
SPID=$!; SENDER_RSS=0; SENDER_CPU=0
while kill -0 $SPID 2>/dev/null; do
  r=$(peak_rss_mb $SPID); [ "$r" != "?" ] && SENDER_RSS=$r; c=$(cpu_seconds $SPID); [ "$c" != 0 ] && SENDER_CPU=$c; sleep 0.2
done
wait $SPID
LOADER_PORTS="$((BASE + 63))"; for k in $(seq 2 "$LOADERS"); do LOADER_PORTS="$LOADER_PORTS $((BASE + 70 + k))"; done
wait_loaded $((N + 2000)) 900 $LOADER_PORTS || echo "bench: not every tweet arrived" >&2
t1=$(now)
echo
if [ "$PACE" = 0 ]; then PACING="published as fast as acknowledged"; else PACING="paced at $PACE tweets/s"; fi
echo "end to end ($N tweets of $(basename "$CORPUS") $PACING, all four services, $LOADERS loader instance(s), $(nproc) cores):"
echo "  wall time first publish → last row: $(elapsed "$t0" "$t1") s, $(rate "$N" "$t0" "$t1") tweets/s"
WALL_RATES="$WALL_RATES $(python3 -c "print(round($N / ($t1 - $t0)))")"
psql -X -q "$POSTGRES_URL" -At -F ' ' -c "
  WITH m AS (SELECT published_at, loaded_at FROM tweets WHERE id NOT IN (SELECT id FROM tweets ORDER BY published_at LIMIT 2000))
  SELECT 'sustained (rows):', round(count(*) / extract(epoch FROM max(loaded_at) - min(published_at))), 'tweets/s;',
         'latency publish → queryable p50', round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM loaded_at - published_at))::numeric), 'ms,',
         'p99', round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM loaded_at - published_at))::numeric), 'ms,',
         'max', round(1000 * extract(epoch FROM max(loaded_at - published_at))::numeric), 'ms'
  FROM m" | sed 's/^/  /'
LOADER_RSS=$(peak_rss_mb "$(cat "$E/loader.pid")")
for k in $(seq 2 "$LOADERS"); do LOADER_RSS="$LOADER_RSS, $(peak_rss_mb "$(cat "$E/loader@$k.pid")")"; done
echo "  peak RSS: sender ${SENDER_RSS} MB, bridge $(peak_rss_mb "$(cat "$E/bridge.pid")") MB, categorizer $(peak_rss_mb "$(cat "$E/categorizer.pid")") MB, loader $LOADER_RSS MB"
CPU1=$(cpu_snapshot "$PIDS")
{ IFS= read -r CPU_TOTAL; IFS= read -r CPU_LINE; IFS= read -r CEILING_LINE; } < <(python3 - "$N" "$SENDER_CPU" "$CPU0" "$CPU1" "$(nproc)" "$t0" "$t1" <<'PY'
import sys
n = int(sys.argv[1]); before = dict(x.split(":") for x in sys.argv[3].split()); after = dict(x.split(":") for x in sys.argv[4].split())
cores = int(sys.argv[5]); wall = n / (float(sys.argv[7]) - float(sys.argv[6]))
parts = [("sender", float(sys.argv[2]))] + [(k, float(after[k]) - float(before[k])) for k in after]
us = {k: 1e6 * v / n for k, v in parts}
total = sum(us.values())
services = sum(v for k, v in us.items() if k not in ("mosquitto", "kafka", "postgres"))
servers = total - services
print(round(total))
print("  CPU per tweet: " + ", ".join(f"{k} {v:.0f} µs" for k, v in us.items())
      + f"; services {services:.0f} µs (the sender {us['sender']:.0f} of it), servers {servers:.0f} µs, total {total:.0f} µs")
print(f"  ceiling on {cores} cores: {cores * 1e6 / total:,.0f} tweets/s for all of it (measured {wall:,.0f}, {100 * wall * total / (cores * 1e6):.0f} % of it); "
      f"{cores * 1e6 / servers:,.0f} for the servers alone")
PY
)
echo "$CPU_LINE"
echo "$CEILING_LINE"
CPU_TOTALS="$CPU_TOTALS $CPU_TOTAL"
echo "  rows: $(psql -X -q "$POSTGRES_URL" -At -c 'SELECT count(*) FROM tweets') (expected $((N + 2000)))"
for k in $(seq 2 "$LOADERS"); do stop "loader@$k" "$E"; done
for s in loader categorizer bridge; do stop $s "$E"; done
bash scripts/stack.sh stop "$E"
}

if [ "${BENCH_E2E:-1}" = 1 ]; then
WALL_RATES=""; CPU_TOTALS=""
RUNS="${BENCH_E2E_RUNS:-1}"
for run in $(seq 1 "$RUNS"); do end_to_end "$WORK/e2e-$run" 0; done
if [ "$RUNS" -gt 1 ]; then
  python3 - "$WALL_RATES" "$CPU_TOTALS" <<'PY'
import statistics, sys
rates = [int(x) for x in sys.argv[1].split()]; cpu = [int(x) for x in sys.argv[2].split()]
print(f"\nend to end over {len(rates)} runs: wall {min(rates):,}–{max(rates):,} tweets/s (median {round(statistics.median(rates)):,}), "
      f"CPU per tweet {min(cpu)}–{max(cpu)} µs (median {round(statistics.median(cpu))})")
PY
fi
PACED="${BENCH_PACED_RATE:-10000}"
if [ "$PACED" != 0 ]; then end_to_end "$WORK/e2e-paced" "$PACED"; fi
if [ "${BENCH_V11:-1}" = 1 ]; then end_to_end "$WORK/e2e-v11" 0 "$WORK/main-v11.jsonl"; fi
fi

# ---------------------------------------------------------------- pure logic
if [ "${BENCH_PURE:-1}" = 1 ]; then
echo
"$BIN/chirp-bench" "$WORK/main.jsonl" "$ROOT/../shared/data"
fi

# ---------------------------------------------------------------- analytics store
if [ "${BENCH_STORE:-1}" = 1 ]; then
echo
T="$WORK/store"
stack_start "$T" $((BASE + 80)) > /dev/null
set -a; . "$T/env"; set +a
BENCH_STORE_TWEETS="${BENCH_STORE_TWEETS:-1000000}" "$BIN/chirp-bench" store "$POSTGRES_OWNER_URL"
t0=$(now)
for _ in 1 2 3 4 5; do "$BIN/chirp" trends --last 1h > /dev/null; done
t1=$(now)
echo "  chirp trends --last 1h as a command (process, connection, query, output): $(python3 -c "print(f'{($t1 - $t0) / 5 * 1000:.0f}')") ms on average of 5"
bash scripts/stack.sh stop "$T"
fi
