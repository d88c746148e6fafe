#!/usr/bin/env bash
# make fuzz: libFuzzer over the boundary parsers (JSON parser, tweet decoder, enriched record and
# the loader's COPY encoding, document splitter, hashtag/mention/category rules, timestamps, Kafka
# record headers, the health server's request line, the CLI's time expressions). FUZZ_SECONDS (600)
# bounds the run; .ci/run runs a minute of it.
# FUZZ_MAX_LEN (65536) caps input size: smaller runs many more executions.
# The seed corpus is made from ../shared/data at run time in .build/fuzz (never committed);
# crashes are written to .build/fuzz/crashes/ and make the run fail.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/.build/fuzz"
SECONDS_TO_RUN="${FUZZ_SECONDS:-600}"
SHARED="${CHIRP_SHARED_DATA:-$ROOT/../shared/data}"
mkdir -p "$OUT/corpus" "$OUT/crashes"
echo "fuzz: building"
# One module: ChirpStore's files lose their `import ChirpCore`, which is part of it here.
rm -rf "$OUT/src" && mkdir -p "$OUT/src"
for f in Sources/ChirpStore/*.swift; do grep -v '^import ChirpCore$' "$f" > "$OUT/src/store-$(basename "$f")"; done
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name ChirpFuzz \
  $(find Sources/ChirpCore -name '*.swift') "$OUT"/src/*.swift Sources/ChirpService/HTTPRequest.swift Fuzz/ChirpFuzz.swift \
  -o "$OUT/chirp-fuzz"
if [ -d "$SHARED" ] && [ -z "$(ls -A "$OUT/corpus")" ]; then
  python3 - "$SHARED" "$OUT/corpus" <<'PY'
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
n = 0
for name in ["sample-v11.jsonl", "sample-v2-kpop.jsonl", "sample-v2-brexit.jsonl"]:
    for line in open(os.path.join(src, name), encoding="utf-8"):
        open(os.path.join(dst, f"seed-{n}"), "w", encoding="utf-8").write(line.strip()); n += 1
for line in open(os.path.join(src, "hashtag_cases.jsonl"), encoding="utf-8"):
    open(os.path.join(dst, f"seed-{n}"), "w", encoding="utf-8").write(json.loads(line)["text"]); n += 1
for seed in ["GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", "GET /metrics?x=1 HTTP/1.0\r\n\r\n", "1h30m", "90s",
             "2024-03-31 02:30", "yesterday 10:00", "today", "-2h", "2021-09-22T16:37:29.000Z"]:
    open(os.path.join(dst, f"seed-{n}"), "w", encoding="utf-8").write(seed); n += 1
print(f"fuzz: {n} seed inputs")
PY
  # Enriched records, as the loader reads them, from the categorizer's own rules when it is built.
  CLASSIFY="$ROOT/.build/debug/chirp-categorizer"
  if [ -x "$CLASSIFY" ]; then
    head -n 40 "$SHARED/sample-v2-brexit.jsonl" | "$CLASSIFY" classify 2>/dev/null | head -n 200 | split -l 1 - "$OUT/corpus/enriched-" || true
  fi
fi
echo "fuzz: running for $SECONDS_TO_RUN s"
"$OUT/chirp-fuzz" "$OUT/corpus" -max_total_time="$SECONDS_TO_RUN" -max_len="${FUZZ_MAX_LEN:-65536}" -timeout=10 \
  -artifact_prefix="$OUT/crashes/" -print_final_stats=1 2>&1 | grep -vE '^#[0-9]+\s+(NEW|REDUCE|pulse)' || { echo "fuzz: FAILED, see $OUT/crashes" >&2; exit 1; }
