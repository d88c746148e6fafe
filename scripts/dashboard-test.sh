#!/usr/bin/env bash
# make dashboard-test: the provisioned Superset dashboard, for real, without Docker.
#   1. installs Superset (PyPI, deploy/superset/requirements-lock.txt, hashes checked) into .tools/superset-venv and
#      Debian's chromium, if missing;
#   2. starts the local stack and the bridge, categorizer and loader (scripts/stack.sh), replays
#      two generated files (the last 50 minutes; the 20 hours before) and waits for every tweet;
#   3. provisions Superset exactly as its container does (deploy/superset/bootstrap.sh: metadata
#      db, admin, bundle built from deploy/superset/dashboard and imported) and serves it on loopback;
#   4. with SUPERSET_PUBLIC_DASHBOARD=true, Tests/dashboard/check_dashboard.py api: each chart's
#      numbers through the chart-data API equal SQL on the facts; the security headers; an
#      anonymous visitor reads the dashboard's numbers and nothing else;
#   5. renders the dashboard with headless chromium: screenshot (.run/dashboard-test/dashboard.png,
#      copied to docs/dashboard.png with DASHBOARD_SCREENSHOT=docs) and the page checked (every chart
#      drawn, no error box); then, to show that check can fail, the reader loses SELECT on `tweets`
#      and the page check must fail;
#   6. provisioned again as deployed by default (a login first) with a new admin password: the old
#      password is refused, and a visitor who has not logged in gets nothing but the login page
#      (chromium shows it), though the dashboard was public before.
# Stops everything it started, also on failure. Environment: DASHBOARD_BASE_PORT (19500).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/.run/dashboard-test"
BASE="${DASHBOARD_BASE_PORT:-19500}"
SUPERSET_PORT=$((BASE + 88))
VENV="$ROOT/.tools/superset-venv"
BIN="$(swift build --show-bin-path)"
export LD_LIBRARY_PATH="$ROOT/.tools/lib"
started=$SECONDS
log() { echo "dashboard-test [$((SECONDS - started)) s]: $*"; }

# ---------------------------------------------------------------- 1. install
if [ ! -x "$VENV/bin/superset" ]; then
  log "installing Superset into $VENV (PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --require-hashes -r deploy/superset/requirements-lock.txt
fi
if ! command -v chromium > /dev/null; then
  log "installing chromium (Debian)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core > /dev/null
fi

# ---------------------------------------------------------------- 2. stack, services, data
. "$ROOT/scripts/services.sh"
superset_pid=""
cleanup() {
  [ -n "$superset_pid" ] && kill "$superset_pid" 2>/dev/null || true
  [ -n "$superset_pid" ] && pkill -f "superset run -h 127.0.0.1 -p $SUPERSET_PORT" 2>/dev/null || true
  pipeline_stop "$OUT/stack"
  bash "$ROOT/scripts/stack.sh" stop "$OUT/stack"
}
bash "$ROOT/scripts/stack.sh" stop "$OUT/stack" 2>/dev/null || true
rm -rf "$OUT"; mkdir -p "$OUT"
trap cleanup EXIT
stack_start "$OUT/stack" "$BASE"
set -a; . "$OUT/stack/env"; set +a
pipeline_start "$OUT/stack" $((BASE + 101)) dashboard
"$BIN/chirp-sender" generate --count 3000 --seed 11 --span-seconds 3000 --output "$OUT/recent.jsonl"
"$BIN/chirp-sender" generate --count 3000 --seed 12 --span-seconds 72000 \
  --start "$(date -u -d '-21 hours' +%Y-%m-%dT%H:%M:%SZ)" --output "$OUT/earlier.jsonl"
expected=$(distinct_ids "$OUT/recent.jsonl" "$OUT/earlier.jsonl")
for file in recent earlier; do
  HTTP_PORT=$((BASE + 100)) LOG_LEVEL=warning "$BIN/chirp-sender" --file "$OUT/$file.jsonl"
done
loaded=$(wait_for_tweets "$POSTGRES_URL" "$expected" 120)
[ "$loaded" -eq "$expected" ] || { echo "dashboard-test: $loaded of $expected tweets loaded" >&2; exit 1; }
log "$loaded tweets loaded"

# ---------------------------------------------------------------- 3. Superset as its container provisions it
export PATH="$VENV/bin:$PATH" PYTHON="$VENV/bin/python"
export SUPERSET_CONFIG_PATH="$ROOT/deploy/superset/superset_config.py" SUPERSET_HOME="$OUT/superset-home"
export SUPERSET_SECRET_KEY="dashboard-test-$(date +%s%N)" SUPERSET_ADMIN_USER=admin SUPERSET_ADMIN_PASSWORD="test-$RANDOM$RANDOM"
export CHIRP_DATABASE_URI="postgresql+psycopg2://chirp_reader@127.0.0.1:$((BASE + 2))/chirp?passfile=$OUT/stack/secrets/chirp_reader.pgpass"
first_password="$SUPERSET_ADMIN_PASSWORD"
provision_and_serve() {  # label: bootstrap as the container does, then serve on loopback
  log "provisioning Superset ($1; deploy/superset/bootstrap.sh)"
  bash deploy/superset/bootstrap.sh > "$OUT/bootstrap-$1.log" 2>&1 || { tail -30 "$OUT/bootstrap-$1.log" >&2; exit 1; }
  grep '^bootstrap:\|^grant_public:\|^bundle:\|^admin_user:' "$OUT/bootstrap-$1.log"
  superset run -h 127.0.0.1 -p "$SUPERSET_PORT" --with-threads > "$OUT/superset-$1.log" 2>&1 &
  superset_pid=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$SUPERSET_PORT/health" > /dev/null && break; sleep 1; done
  curl -sf "http://127.0.0.1:$SUPERSET_PORT/health" > /dev/null || { tail -30 "$OUT/superset-$1.log" >&2; exit 1; }
  log "Superset serves http://127.0.0.1:$SUPERSET_PORT"
}
stop_superset() {
  kill "$superset_pid" 2>/dev/null || true
  pkill -f "superset run -h 127.0.0.1 -p $SUPERSET_PORT" 2>/dev/null || true
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$SUPERSET_PORT/health" > /dev/null || break; sleep 0.1; done
  superset_pid=""
}
render() {  # output-prefix
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1600,1750 \
    --virtual-time-budget=30000 --screenshot="$1.png" \
    "http://127.0.0.1:$SUPERSET_PORT/superset/dashboard/chirpstream/?standalone=1" > "$1.chromium.log" 2>&1
  chromium --headless --no-sandbox --disable-gpu --window-size=1600,1750 \
    --virtual-time-budget=30000 --dump-dom \
    "http://127.0.0.1:$SUPERSET_PORT/superset/dashboard/chirpstream/?standalone=1" > "$1.html" 2>> "$1.chromium.log"
}

# ---------------------------------------------------------------- 4. public, as asked for
export SUPERSET_PUBLIC_DASHBOARD=true
provision_and_serve public
"$PYTHON" Tests/dashboard/check_dashboard.py api "http://127.0.0.1:$SUPERSET_PORT" "$POSTGRES_ADMIN_URL" \
  admin "$SUPERSET_ADMIN_PASSWORD" public

# ---------------------------------------------------------------- 5. what a person sees
render "$OUT/dashboard"
"$PYTHON" Tests/dashboard/check_dashboard.py dom "$OUT/dashboard.html"
if [ "${DASHBOARD_SCREENSHOT:-}" = docs ]; then cp "$OUT/dashboard.png" "$ROOT/docs/dashboard.png"; fi
log "screenshot: $OUT/dashboard.png"

log "the page check must fail when charts cannot read their data"
psql -X -q "$POSTGRES_ADMIN_URL" -c "REVOKE SELECT ON tweets FROM chirp_reader"
render "$OUT/broken"
psql -X -q "$POSTGRES_ADMIN_URL" -c "GRANT SELECT ON tweets TO chirp_reader"
if "$PYTHON" Tests/dashboard/check_dashboard.py dom "$OUT/broken.html" > "$OUT/broken.check" 2>&1; then
  echo "dashboard-test: the page check passed a dashboard whose charts failed" >&2; exit 1
fi
grep -c '^FAIL' "$OUT/broken.check" | xargs -I{} echo "ok   the page check rejects the broken dashboard ({} failed checks)"
stop_superset

# ---------------------------------------------------------------- 6. back to the default (a login first), a new admin password
unset SUPERSET_PUBLIC_DASHBOARD
export SUPERSET_ADMIN_PASSWORD="test-$RANDOM$RANDOM-rotated"
provision_and_serve private
"$PYTHON" Tests/dashboard/check_dashboard.py api "http://127.0.0.1:$SUPERSET_PORT" "$POSTGRES_ADMIN_URL" \
  admin "$SUPERSET_ADMIN_PASSWORD" private "$first_password"
render "$OUT/anonymous"
"$PYTHON" Tests/dashboard/check_dashboard.py login "$OUT/anonymous.html"
log "passed"
