#!/usr/bin/env bash
# Interleaved end-to-end A/B of decode speed on a shared host: runs `insitu bench` of binary A and
# binary B in turn, ROUNDS times per type, and prints each type's best tok/s for both (a slow
# run is only ever the neighbours, so the best of alternated runs compares the binaries fairly).
# The order alternates every round (A B, B A, A B, ...): the second run of a pair is
# systematically faster on this host (the same binary as A and B measured B/A = 1.13 with a
# fixed order), so use an even ROUNDS.
# Usage: bench/ab_tg.sh MODEL_DIR BIN_A BIN_B ROUNDS TYPE...
#   e.g. bench/ab_tg.sh /tmp/llama1b-bf16 /tmp/base/build-base/src/insitu build-perf/src/insitu 2 q2k q4k
set -euo pipefail
model=$1 a=$2 b=$3 rounds=$4
shift 4
best() {  # best generation tok/s of one run
  "$1" bench -m "$model" -t 2 -p 0 -n 64 -r 3 --isq "$2" --json 2>/dev/null |
    python3 -c 'import json,sys; s=sys.stdin.read(); r=json.loads(s[s.index("["):]); print(max(r[0]["samples_ts"]))'
}
echo "| type | A best tok/s | B best tok/s | B/A |"
echo "|---|---:|---:|---:|"
for t in "$@"; do
  ba=0 bb=0
  for r in $(seq "$rounds"); do
    order="a b"
    [ $((r % 2)) -eq 0 ] && order="b a"
    for side in $order; do
      if [ "$side" = a ]; then ba=$(python3 -c "print(max($ba, $(best "$a" "$t")))")
      else bb=$(python3 -c "print(max($bb, $(best "$b" "$t")))"); fi
    done
  done
  python3 -c "print(f'| $t | {$ba:.1f} | {$bb:.1f} | {$bb/$ba:.2f} |')"
done
