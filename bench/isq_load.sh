#!/usr/bin/env bash
# ISQ load time and peak resident memory on the Llama-3.2-1B-shaped checkpoint (2.47 GB bf16,
# random weights), 2 threads, page cache warm. Prints a markdown table with the best and median
# of REPEATS runs per type, the 1-minute load average seen before each run, and the issue's
# targets (3x faster than llama.cpp's offline quantizer on the dev machine; q4k peak resident
# <= 1.1 x quantized bytes + 256 MiB). "CPU s" is the process's user + system time (load plus
# one generated token): unlike wall time it barely changes when other jobs share the cores, so
# CPU s / 2 estimates the load time on two idle cores.
#
# Usage: bench/isq_load.sh [TYPES...]     (default: q4_0 q4k q6k q2k q8_0 q5k q3k)
# Environment: BUILD (build dir, default build), MODEL (checkpoint dir, default
# /tmp/llama1b-bf16, made with tools/make_checkpoint if missing), REPEATS (default 3),
# THREADS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
model=${MODEL:-/tmp/llama1b-bf16}
reps=${REPEATS:-3}
threads=${THREADS:-2}
types=("$@")
[ ${#types[@]} -eq 0 ] && types=(q4_0 q4k q6k q2k q8_0 q5k q3k)
bin=$build/src/insitu

if [ ! -f "$model/model.safetensors" ]; then
  "$build/tools/make_checkpoint" bench/configs/llama-3.2-1b.json "$model" >&2
fi
cat "$model"/*.safetensors > /dev/null  # warm the page cache: this measures quantization, not disk

# llama.cpp's offline quantizer (llama-quantize) on the dev machine, seconds, as the issue gives them.
declare -A llama=([q4_0]=11.6 [q6k]=34.4 [q4k]=55.1 [q2k]=47.4)
declare -A llama_name=([q4_0]=Q4_0 [q6k]=Q6_K [q4k]=Q4_K_M [q2k]=Q2_K)

echo "| type | load s (best / median) | peak resident MB (best / median) | weights MB |" \
     "1.1 x weights + 256 MiB | CPU s (best / median) | load target s | llama.cpp s | load avg |"
echo "|---|---|---|---|---|---|---|---|---|"
for t in "${types[@]}"; do
  secs=() peaks=() loads=() cpus=()
  weights=""
  for ((r = 0; r < reps; ++r)); do
    loads+=("$(cut -d' ' -f1 /proc/loadavg)")
    # /usr/bin/time's line: user + system CPU seconds of the whole process (load, one token).
    out=$(/usr/bin/time -f 'cpu %U %S' "$bin" bench -m "$model" -p 0 -n 1 -r 1 --isq "$t" \
          -t "$threads" 2>&1 >/dev/null)
    summary=$(grep '^size:' <<<"$out")
    cpus+=("$(awk '/^cpu /{print $2 + $3}' <<<"$out")")
    # "size: A MB in the checkpoint -> B MB loaded; load C s; peak resident D MB"
    weights=$(sed -n 's/.*-> \([0-9.]*\) MB loaded.*/\1/p' <<<"$summary")
    secs+=("$(sed -n 's/.*; load \([0-9.]*\) s;.*/\1/p' <<<"$summary")")
    peaks+=("$(sed -n 's/.*peak resident \([0-9.]*\) MB.*/\1/p' <<<"$summary")")
  done
  python3 - "$t" "$weights" "${llama[$t]:-}" "${llama_name[$t]:-}" "${secs[*]}" "${peaks[*]}" \
      "${loads[*]}" "${cpus[*]}" <<'EOF'
import statistics, sys
t, weights, llama, llama_name, secs, peaks, loads, cpus = sys.argv[1:9]
cpus = [float(v) for v in cpus.split()]
secs = [float(v) for v in secs.split()]
peaks = [float(v) for v in peaks.split()]
w = float(weights)
target_peak = 1.1 * w + 256 * 1.048576
load_target = f"<= {float(llama) / 3:.1f}" if llama else ""
llama_col = f"{llama} ({llama_name})" if llama else ""
print(f"| {t} | {min(secs):.2f} / {statistics.median(secs):.2f} | "
      f"{min(peaks):.0f} / {statistics.median(peaks):.0f} | {w:.0f} | {target_peak:.0f} | "
      f"{min(cpus):.1f} / {statistics.median(cpus):.1f} | {load_target} | {llama_col} | "
      f"{', '.join(loads.split())} |")
EOF
done
