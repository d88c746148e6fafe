#!/usr/bin/env bash
# The fault matrix (`make chaos`): the whole pipeline on a local stack of its own per row (two
# categorizers and two loaders in their groups). Each row replays generated tweets while one kind
# of fault is injected again and again; then it waits for the pipeline to settle and counts:
# tweets expected, rows loaded, tweets counted twice in the rollups, tweets lost, the longest time
# from a fault until every service's /readyz answered 200 again, and whether `chirp verify` finds
# every rollup equal to a recount. The Kafka-broker row runs its broker on S3 storage (a local moto
# server), so that a killed broker keeps what it acknowledged; the S3 server costs CPU per fetch,
# so that row replays at CHAOS_KAFKA_RATE. Exits 1 when a row lost or double-counted a tweet, or
# verify failed.
#
# Environment: CHAOS_QUICK=1 (one fault of each kind, 2 500 tweets per row: CI's version),
# CHAOS_TWEETS (per row; 20 000, quick 2 500), CHAOS_RATE (tweets/s; 5 000, quick 1 000),
# CHAOS_KAFKA_RATE (1 000), CHAOS_BASE_PORT (21000), CHAOS_SETTLE_SECONDS (how long a row may take
# to load everything; 180).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${BIN:-$ROOT/.build/release}"
QUICK="${CHAOS_QUICK:-0}"
if [ "$QUICK" = 1 ]; then N="${CHAOS_TWEETS:-2500}"; RATE="${CHAOS_RATE:-1000}"; else N="${CHAOS_TWEETS:-20000}"; RATE="${CHAOS_RATE:-5000}"; fi
BASE="${CHAOS_BASE_PORT:-21000}"
KAFKA_RATE="${CHAOS_KAFKA_RATE:-1000}"
KAFKA_STOP="${CHAOS_KAFKA_STOP:-term}"   # or kill
ONLY="${CHAOS_ROWS:-}"                    # fault names to run (all when empty)
SETTLE="${CHAOS_SETTLE_SECONDS:-180}"
WORK="$ROOT/.run/chaos"
STATE="$WORK/stack"
HTTP=$((BASE + 10))  # bridge, categorizer a, categorizer b, loader a, loader b, sender
export LD_LIBRARY_PATH="$ROOT/.tools/lib"

bash "$ROOT/scripts/setup.sh" s3 > /dev/null
rm -rf "$WORK"; mkdir -p "$WORK"
. "$ROOT/scripts/services.sh"

# name → HTTP port and instance id
declare -A PORT=([bridge]=$HTTP [categorizer]=$((HTTP + 1)) [categorizer@b]=$((HTTP + 2)) [loader]=$((HTTP + 3)) [loader@b]=$((HTTP + 4)))
SERVICES="bridge categorizer categorizer@b loader loader@b"

start() {  # name
  local instance=a
  [[ $1 == *@* ]] && instance="${1#*@}"
  service_start "$1" "${PORT[$1]}" "$WORK" INSTANCE_ID="$instance" LOG_LEVEL=warning
}
kill9() {  # name
  kill -KILL "$(cat "$WORK/$1.pid")" 2>/dev/null
  { wait "$(cat "$WORK/$1.pid")"; } 2>/dev/null
  rm -f "$WORK/$1.pid"
}
cleanup() {
  for s in $SERVICES sender; do service_stop "$s" "$WORK" 0; done
  bash "$ROOT/scripts/stack.sh" stop "$STATE" 2>/dev/null
  rm -rf "$STATE"
}
trap cleanup EXIT

# Seconds until every service answers /readyz with 200 (at most 120).
recovery() {
  local t0 port
  t0=$(date +%s.%N)
  for port in "${PORT[@]}"; do
    for _ in $(seq 1 1200); do curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break; sleep 0.1; done
  done
  python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')"
}

sender_start() {  # file
  env HTTP_PORT=0 LOG_LEVEL=warning "$BIN/chirp-sender" --file "$1" --rate "$rate" --progress-seconds 0 > "$WORK/sender.log" 2>&1 &
  echo $! > "$WORK/sender.pid"
}

# One loader backend busy with a batch (COPY or its COMMIT), cut off.
cut_loader_connection() {
  for _ in $(seq 1 200); do
    cut=$(psql -X -tA "$POSTGRES_ADMIN_URL" -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
      WHERE usename = 'chirp_writer' AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')" 2>/dev/null)
    [ "${cut:-0}" -gt 0 ] && return 0
    sleep 0.01
  done
  # No batch caught in flight within 2 s: cut the idle connections instead.
  psql -X -tA "$POSTGRES_ADMIN_URL" -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'chirp_writer' AND pid <> pg_backend_pid()" > /dev/null
}

inject() {  # fault
  case "$1" in
    sender) kill9 sender; sender_start "$FILE" ;;  # a new sender replays the file from its start
    bridge|categorizer|loader) kill9 "$1"; start "$1" ;;
    rebalance) kill9 categorizer@b; kill9 loader@b; sleep 3; start categorizer@b; start loader@b ;;
    mqtt) if [ $((INJECTED % 2)) = 0 ]; then bash "$ROOT/scripts/stack.sh" restart-mqtt "$STATE" kill; else bash "$ROOT/scripts/stack.sh" restart-mqtt "$STATE"; fi ;;
    postgres) bash "$ROOT/scripts/stack.sh" restart-postgres "$STATE" ;;
    kafka) bash "$ROOT/scripts/stack.sh" restart-kafka "$STATE" "$KAFKA_STOP" ;;
    connection) cut_loader_connection ;;
  esac
}

day_sql() {  # day → counts of that day: loaded, and tweets counted beyond their facts in the rollups
  psql -X -tA -F' ' "$POSTGRES_ADMIN_URL" -c "
    WITH d AS (SELECT '$1'::timestamptz AS lo, '$1'::timestamptz + interval '1 day' AS hi)
    SELECT (SELECT count(*) FROM tweets, d WHERE created_at >= lo AND created_at < hi),
           (SELECT coalesce(sum(count), 0) FROM hashtag_counts_hourly, d WHERE hour >= lo AND hour < hi)
             - (SELECT count(*) FROM tweet_hashtags, d WHERE created_at >= lo AND created_at < hi)
           + (SELECT coalesce(sum(count), 0) FROM category_counts_minutely, d WHERE minute >= lo AND minute < hi)
             - (SELECT coalesce(sum(cardinality(categories)), 0) FROM tweets, d WHERE created_at >= lo AND created_at < hi)"
}

# A fresh stack and services for a row; `s3` puts the Kafka broker's data in the S3 server.
row_start() {  # storage
  KAFKA_STORAGE=$1 stack_start "$STATE" "$BASE" > "$WORK/stack.log" 2>&1 || { cat "$WORK/stack.log"; exit 1; }
  set -a; . "$STATE/env"; set +a
  # The first loader migrates the new database alone, so the others find it ready.
  start loader; service_wait_ready "${PORT[loader]}"
  for s in $SERVICES; do [ "$s" = loader ] || start "$s"; done
  for s in $SERVICES; do service_wait_ready "${PORT[$s]}" || { echo "chaos: chirp-$s not ready" >&2; tail -5 "$WORK/$s.log" >&2; exit 1; }; done
}
row_stop() {
  for s in $SERVICES sender; do service_stop "$s" "$WORK" 5; done
  bash "$ROOT/scripts/stack.sh" stop "$STATE"
  rm -rf "$STATE"
}

if [ "$QUICK" = 1 ]; then TIMES=(1 1 1 1 1 1 1 1 1); else TIMES=(5 5 5 5 3 3 3 3 3); fi
FAULTS=(sender bridge categorizer loader rebalance mqtt postgres kafka connection)
LABELS=("kill -9 sender" "kill -9 bridge" "kill -9 categorizer" "kill -9 loader" "kill -9 one of two categorizers and loaders"
        "mosquitto restarted (SIGKILL, SIGTERM)" "PostgreSQL stopped immediately" "Kafka broker restarted ($KAFKA_STOP)" "loader's connection cut mid-batch")
ROWS=()
FAILED=0
for i in "${!FAULTS[@]}"; do
  fault=${FAULTS[$i]}; times=${TIMES[$i]}
  [ -z "$ONLY" ] || [[ " $ONLY " == *" $fault "* ]] || continue
  day=$(date -u -d "2025-01-01 + $i days" +%Y-%m-%d)
  FILE="$WORK/$fault.jsonl"
  rate=$RATE
  if [ "$fault" = kafka ]; then row_start s3; rate=$KAFKA_RATE; else row_start memory; fi
  "$BIN/chirp-sender" generate --count "$N" --seed $((500 + i)) --start "${day}T00:00:00Z" --span-seconds 3600 --output "$FILE"
  expected=$(distinct_ids "$FILE")
  sender_start "$FILE"
  # Faults spread over the replay (N / RATE seconds).
  spacing=$(python3 -c "print($N / $rate / ($times + 1))")
  worst=0
  for INJECTED in $(seq 1 "$times"); do
    sleep "$spacing"
    inject "$fault"
    took=$(recovery)
    worst=$(python3 -c "print(max($worst, $took))")
  done
  # The replay finishes (the sender's last incarnation must have had every tweet acknowledged).
  wait "$(cat "$WORK/sender.pid")" 2>/dev/null; sender_status=$?
  deadline=$((SECONDS + SETTLE))
  while :; do
    read -r loaded doubled <<< "$(day_sql "$day")"
    [ "${loaded:-0}" -ge "$expected" ] && break
    [ $SECONDS -ge $deadline ] && break
    sleep 1
  done
  sleep 2; read -r loaded doubled <<< "$(day_sql "$day")"
  lost=$((expected - loaded))
  verify=$("$BIN/chirp" verify --postgres-url "$POSTGRES_ADMIN_URL" 2>&1); verify_status=$?
  # The local broker (Tansu on S3) does not keep every record it acknowledged across its own
  # restart. What it dropped is counted from the topics themselves and reported apart: the
  # pipeline answers for the rest.
  by_broker=0
  if [ "$fault" = kafka ] && [ "$lost" -gt 0 ]; then
    read -r raw_keys enriched_keys <<< "$("$ROOT/.tools/s3/bin/python" "$ROOT/scripts/kafka-keys.py" "$KAFKA_BROKERS" tweets.raw tweets.enriched | paste -sd' ')"
    by_broker=$(( (expected - raw_keys) + (raw_keys - enriched_keys) ))
    echo "chaos: tweets.raw holds $raw_keys distinct ids of the $expected acknowledged to the sender, tweets.enriched $enriched_keys" >&2
  fi
  [ $((lost - by_broker)) -ne 0 ] || [ "$doubled" -ne 0 ] || [ "$sender_status" -ne 0 ] || [ "$verify_status" -ne 0 ] && FAILED=1
  lost_text=$lost; [ "$by_broker" -gt 0 ] && lost_text="$lost (the broker dropped $by_broker it had acknowledged)"
  ROWS+=("$(printf '| %s | %d | %d | %d | %d | %s | %s s | %s |%s' "${LABELS[$i]}" "$times" "$expected" "$loaded" "$doubled" "$lost_text" "$worst" \
            "$([ "$verify_status" = 0 ] && echo clean || echo "FAILED")" "$([ "$sender_status" -ne 0 ] && echo " sender exited $sender_status")")")
  echo "chaos: ${LABELS[$i]}: $times injected at $rate tweets/s, $loaded of $expected loaded, $doubled double-counted, $lost lost, recovery ≤ $worst s, verify $verify_status" >&2
  [ "$verify_status" = 0 ] || echo "$verify" >&2
  row_stop
done

echo
echo "| fault | injected | tweets expected | rows loaded | double-counted | lost | recovery (max) | chirp verify |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
exit "$FAILED"
