#!/usr/bin/env bash
# make fuzz: libFuzzer over ChirpCore (JSON parser, tweet decoder, enriched record, document
# splitter, hashtag/mention/category rules, timestamps). FUZZ_SECONDS (600) bounds the run.
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
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name ChirpFuzz \
  $(find Sources/ChirpCore -name '*.swift') Fuzz/ChirpFuzz.swift -o "$OUT/chirp-fuzz"
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
print(f"fuzz: {n} seed inputs")
PY
fi
echo "fuzz: running for $SECONDS_TO_RUN s"
"$OUT/chirp-fuzz" "$OUT/corpus" -max_total_time="$SECONDS_TO_RUN" -max_len="${FUZZ_MAX_LEN:-65536}" -timeout=10 \
  -artifact_prefix="$OUT/crashes/" -print_final_stats=1 2>&1 | grep -vE '^#[0-9]+\s+(NEW|REDUCE|pulse)' || { echo "fuzz: FAILED, see $OUT/crashes" >&2; exit 1; }
