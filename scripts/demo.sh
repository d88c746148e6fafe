#!/usr/bin/env bash
# make demo / make up / make down: the four services on the local stack (release build).
#   demo.sh run    start stack and services, generate and replay a sample, wait until every tweet
#                  is in PostgreSQL, print the trends, stop everything
#   demo.sh up     start stack and services and leave them running (state in .run/stack)
#   demo.sh down   stop what `up` started
# Environment: DEMO_COUNT (10000), DEMO_SEED (42), DEMO_BASE_PORT (17000).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BIN="$ROOT/.build/release"
COUNT="${DEMO_COUNT:-10000}"
SEED="${DEMO_SEED:-42}"
BASE="${DEMO_BASE_PORT:-17000}"
export LD_LIBRARY_PATH="$ROOT/.tools/lib"

. "$ROOT/scripts/services.sh"

start_services() {  # state dir
  set -a; . "$1/env"; set +a
  pipeline_start "$1" $((BASE + 101)) demo
}

stop_all() {  # state dir
  pipeline_stop "$1"
  bash "$ROOT/scripts/stack.sh" stop "$1"
}

sql() { psql -X -q "$POSTGRES_URL" "$@"; }

case "${1:-run}" in
run)
  STATE="$ROOT/.run/demo"
  bash "$ROOT/scripts/stack.sh" stop "$STATE" 2>/dev/null || true
  rm -rf "$STATE"
  trap 'stop_all "$STATE"' EXIT
  stack_start "$STATE" "$BASE"
  start_services "$STATE"
  echo "demo: generating $COUNT tweets (seed $SEED) spread over the last hour"
  "$BIN/chirp-sender" generate --count "$COUNT" --seed "$SEED" --span-seconds 3600 --output "$STATE/sample.jsonl"
  echo "demo: replaying through MQTT → bridge → Kafka → categorizer → Kafka → loader → PostgreSQL"
  HTTP_PORT=$((BASE + 100)) LOG_LEVEL=warning "$BIN/chirp-sender" --file "$STATE/sample.jsonl" --progress-seconds 2
  loaded=$(wait_for_tweets "$POSTGRES_URL" "$COUNT" 120)
  echo
  echo "== Chirpstream demo: $loaded of $COUNT tweets in PostgreSQL"
  sql -c "SELECT count(*) AS tweets, count(DISTINCT id) AS distinct_ids,
                 round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM loaded_at - published_at))::numeric * 1000) AS p50_ms,
                 round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM loaded_at - published_at))::numeric * 1000) AS p99_ms
          FROM tweets"
  echo "== chirp trends --last 1h   (the read-only role; see chirp --help)"
  "$BIN/chirp" trends --last 1h
  echo
  echo "== chirp trends --hourly --last 2h --top 3"
  "$BIN/chirp" trends --hourly --last 2h --top 3
  echo
  echo "== chirp categories --by hour --last 2h"
  "$BIN/chirp" categories --by hour --last 2h
  echo
  echo "== chirp languages --last 2h"
  "$BIN/chirp" languages --last 2h
  echo
  echo "== Health and metrics (while running): http://127.0.0.1:$((BASE + 101))/readyz (bridge), :$((BASE + 102)) (categorizer), :$((BASE + 103)) (loader); /healthz and /metrics likewise"
  [ "$loaded" -ge "$COUNT" ] || { echo "demo: only $loaded of $COUNT tweets arrived" >&2; exit 1; }
  ;;
up)
  STATE="$ROOT/.run/stack"
  bash "$ROOT/scripts/stack.sh" stop "$STATE" 2>/dev/null || true
  rm -rf "$STATE"
  stack_start "$STATE" "$BASE"
  start_services "$STATE" || { stop_all "$STATE"; exit 1; }
  echo "up: services running; logs in $STATE/*.log"
  echo "up: replay with:  set -a; . $STATE/env; set +a; $BIN/chirp-sender --file FILE"
  echo "up: health:       http://127.0.0.1:$((BASE + 101))/readyz (bridge), :$((BASE + 102)) (categorizer), :$((BASE + 103)) (loader)"
  echo "up: database:     psql \"$(grep '^CHIRP_POSTGRES_URL=' "$STATE/env" | cut -d= -f2-)\"   (read-only; the roles' passwords are in $STATE/secrets)"
  ;;
down)
  stop_all "$ROOT/.run/stack"
  echo "down: stopped"
  ;;
*)
  echo "usage: demo.sh run|up|down" >&2; exit 64 ;;
esac
