#!/usr/bin/env bash
# make bench-store: how the analytics store's costs grow with what it holds (release build, the
# native stack's PostgreSQL): chirp-bench store-scale loads 1, 3 and 10 million generated tweets
# over the last 24 hours, then 10 million within the last 90 minutes (in event-time order, as a
# stream writes them), and reports at each size the load rate, p50/p99 of every question the CLI
# and the dashboard ask, bytes on disk per tweet by table and index, and at 10 million the times
# of a recompute, a verify and a raw retention drop.
# About half an hour and 25 GB of disk at the default sizes.
# Environment: BENCH_STORE_SIZES (1000000,3000000,10000000), BENCH_STORE_DENSE (10000000; 0 skips),
# BENCH_STORE_DENSE_INTERLEAVED (1: each dense million over all 90 minutes), BENCH_STORE_RUNS
# (50 per question), BENCH_STORE_LOADERS (2), BENCH_BASE_PORT (18000).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BIN="$ROOT/.build/release"
BASE="${BENCH_BASE_PORT:-18000}"
export LD_LIBRARY_PATH="$ROOT/.tools/lib"
WORK="$ROOT/.run/bench-store"
rm -rf "$WORK"; mkdir -p "$WORK"
. "$ROOT/scripts/services.sh"
stack_start "$WORK/stack" $((BASE + 80)) > /dev/null
trap 'bash scripts/stack.sh stop "$WORK/stack" > /dev/null 2>&1 || true' EXIT
set -a; . "$WORK/stack/env"; set +a
echo "bench-store: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, PostgreSQL $(psql -X -tA "$POSTGRES_OWNER_URL" -c 'SHOW server_version')"
"$BIN/chirp-bench" store-scale "$POSTGRES_OWNER_URL"
