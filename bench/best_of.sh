#!/usr/bin/env bash
# Best-of-N A/B runs of Google-benchmark binaries on a shared host: runs each binary in turn, N
# rounds, and prints the highest value of one counter per benchmark and binary (neighbours only
# ever slow a run down, so the best run is the kernel's own speed).
# Usage: bench/best_of.sh N FILTER COUNTER BINARY...   e.g.
#   bench/best_of.sh 3 'gemv/q4k/[0-9]+/2/1/2/' GB/s build-perf/bench/bench_quant_matmul
set -euo pipefail
n=$1 filter=$2 counter=$3
shift 3
for _ in $(seq "$n"); do
  for b in "$@"; do
    "$b" --benchmark_filter="$filter" 2>/dev/null | grep -E '^(gemm|gemv)' |
      awk -v b="$b" -v f="$counter" '{for (i = 1; i <= NF; i++) if (index($i, f "=") == 1) {
        v = substr($i, length(f) + 2); sub("/s", "", v); m = 1; if (v ~ /k$/) { sub("k", "", v); m = 1000 }
        sub("/min_time.*", "", $1); print b, $1, v * m }}'
  done
done | awk '{k = $1 " " $2; if (!(k in m) || $3 > m[k]) m[k] = $3} END {for (k in m) print k, m[k]}' |
  sort -k2,2 -k1,1
