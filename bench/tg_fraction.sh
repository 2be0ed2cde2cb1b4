#!/usr/bin/env bash
# Decode (tg) against the memory-bandwidth bound and prefill (pp512) against issue 3's targets
# (2x llama.cpp), per type, on the 1B shape (tools/make_checkpoint bench/configs/llama-3.2-1b.json).
# The host is shared: read bandwidth is measured (bench/roofline, 2 threads) right before and
# after each type, and tg is reported as a fraction of that and of the nominal 31 GB/s.
# Bytes per token = the loaded model size (every weight is read once per token; the tied
# embedding is the lm_head). "best" is the fastest of the -r repetitions, "mean" their mean.
# Usage: bench/tg_fraction.sh MODEL_DIR [TYPES...]   (INSITU_BUILD: build dir, default build-perf)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${INSITU_BUILD:-build-perf}
model=$1
shift
types=("$@")
[ ${#types[@]} -eq 0 ] && types=(q8_0 q6k q5k q4k q4_0 q3k q2k)
bw() { "$build/bench/roofline" | python3 -c 'import json,sys; print(json.load(sys.stdin)["mem_read_GBps"]["2"])'; }
echo "| type | MB/token | tg best (mean) t/s | GB/s best | % of measured bw | % of 31 GB/s | pp512 best (mean) t/s | pp target |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
declare -A target=([q8_0]=238 [q6k]=140 [q5k]=196 [q4k]=220 [q4_0]=262 [q3k]=82 [q2k]=68)
for t in "${types[@]}"; do
  b0=$(bw)
  out=$("$build/src/insitu" bench -m "$model" -t 2 -p 512 -n 128 -r 3 --isq "$t" --json 2>&1)
  b1=$(bw)
  python3 - "$t" "$b0" "$b1" "${target[$t]:-0}" <<PY
import json, re, sys
t, b0, b1, target = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
out = """$out"""
recs = json.loads(out[out.index("["):])
mb = recs[0]["model_size"] / 1e6
pp = next(r for r in recs if r["n_prompt"] > 0)
tg = next(r for r in recs if r["n_gen"] > 0)
best, mean = max(tg["samples_ts"]), tg["avg_ts"]
gbs = best * mb / 1000
bw = (b0 + b1) / 2
print(f"| {t} | {mb:.0f} | {best:.1f} ({mean:.1f}) | {gbs:.1f} | {100*gbs/bw:.0f}% of {bw:.1f} | {100*gbs/31:.0f}% "
      f"| {max(pp['samples_ts']):.0f} ({pp['avg_ts']:.0f}) | {target:.0f} |")
PY
done
