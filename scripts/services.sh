# Sourced by demo.sh, bench.sh, soak.sh and the dashboard and compose tests: the services as background
# processes of a script, and waiting for the tweets they load.
# Needs BIN (the folder of the built executables).
#   stack_start STATE BASE_PORT                    scripts/stack.sh start, then the schema
#                                                  (chirp migrate, as the schema's owner)
#   service_start NAME PORT STATE [VAR=value …]   chirp-NAME on HTTP port PORT, log and pid in STATE;
#                                                  NAME@K runs chirp-NAME as a further instance
#   service_wait_ready PORT                        until /readyz answers 200 (30 s at most)
#   service_stop NAME STATE [SECONDS]              SIGTERM, up to SECONDS (30) to exit, then SIGKILL
#   pipeline_start STATE PORT INSTANCE             bridge, categorizer, loader on PORT, PORT+1, PORT+2
#                                                  (INSTANCE_ID=INSTANCE), until all are ready
#   pipeline_stop STATE                            stops those three
#   wait_for_tweets URL COUNT SECONDS              until table `tweets` holds COUNT rows (at most
#                                                  SECONDS); prints the last count seen
#   service_metric PORT NAME                       metric NAME of the service on PORT as a whole
#                                                  number, summed over its labels (0 when the
#                                                  service or the metric is missing)
#   wait_counter NAME TARGET SECONDS POLL PORT…    until metric NAME summed over the services on
#                                                  PORT… reaches TARGET, looking every POLL seconds
#                                                  (1 after SECONDS)
#   wait_loaded TARGET SECONDS PORT…               until the loaders on PORT… have inserted TARGET
#                                                  tweets in all (1 after SECONDS)
#   distinct_ids FILE…                             how many distinct tweet ids generated JSON-lines
#                                                  files (chirp-sender generate) hold

stack_start() {
  bash "$ROOT/scripts/stack.sh" start "$1" "$2" || return 1
  env $(grep '^POSTGRES_OWNER_URL=\|^LD_LIBRARY_PATH=' "$1/env") "$BIN/chirp" migrate > "$1/migrate.log" 2>&1 \
    || { echo "stack: chirp migrate failed:" >&2; cat "$1/migrate.log" >&2; return 1; }
}

service_start() {
  local name=$1 port=$2 state=$3
  shift 3
  env HTTP_PORT="$port" "$@" "$BIN/chirp-${name%@*}" > "$state/$name.log" 2>&1 &
  echo $! > "$state/$name.pid"
}

service_wait_ready() {
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$1/readyz" > /dev/null && return 0
    sleep 0.1
  done
  return 1
}

service_stop() {
  [ -f "$2/$1.pid" ] || return 0
  local pid
  pid=$(cat "$2/$1.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $(( ${3:-30} * 10 ))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$2/$1.pid"
}

pipeline_start() {
  local state=$1 first=$2 instance=$3 port=$2 service
  for service in bridge categorizer loader; do
    service_start "$service" "$port" "$state" INSTANCE_ID="$instance"
    port=$((port + 1))
  done
  for port in "$first" $((first + 1)) $((first + 2)); do
    service_wait_ready "$port" || { echo "service on :$port not ready; see $state/*.log" >&2; return 1; }
  done
}

pipeline_stop() {
  local service
  for service in bridge categorizer loader; do service_stop "$service" "$1" 10; done
}

wait_for_tweets() {
  local rows=0
  for _ in $(seq 1 $(( $3 * 5 ))); do
    rows=$(psql -X -tA "$1" -c "SELECT count(*) FROM tweets" 2>/dev/null || echo 0)
    [ "$rows" -ge "$2" ] && break
    sleep 0.2
  done
  echo "$rows"
}

distinct_ids() {
  cat "$@" | python3 -c 'import json, sys; print(len({json.loads(l)["data"]["id"] for l in sys.stdin if l.strip()}))'
}

service_metric() {
  curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m || index($1, m "{") == 1 { v += $2 } END { printf "%d", v }' || true
}

wait_counter() {
  local name=$1 target=$2 limit=$3 poll=$4 deadline=$((SECONDS + $3)) total port
  shift 4
  while true; do
    total=0
    for port in "$@"; do total=$((total + $(service_metric "$port" "$name"))); done
    [ "$total" -ge "$target" ] && return 0
    [ $SECONDS -ge $deadline ] && { echo "$name reached $total of $target within $limit s" >&2; return 1; }
    sleep "$poll"
  done
}

# Reads the loaders' counters rather than counting rows, so that waiting costs the database nothing.
wait_loaded() { wait_counter chirp_loader_inserted_total "$1" "$2" 0.25 "${@:3}"; }
