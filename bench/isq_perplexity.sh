#!/usr/bin/env bash
# Perplexity of the demo model under every ISQ type, the reference protocol (eval.txt, ctx 256),
# as a markdown table with the change against bf16. Usage: bench/isq_perplexity.sh [TYPES...]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${INSITU_BIN:-build/src/insitu}
model=models/demo-llama-14m
eval=../shared/data/eval.txt
types=("$@")
[ ${#types[@]} -eq 0 ] && types=(q8_0 q8_1 q8k q6k q5k q5_1 q5_0 q4k q4_1 q4_0 q3k q2k afq8 afq6 afq4 afq3 afq2 hqq8 hqq4 fp8 f8q8 mxfp4)
ppl_of() { "$bin" perplexity -t 2 -m "$model" -f "$eval" --ctx 256 "$@" 2>/dev/null | sed -n 's/^perplexity: \([0-9.]*\).*/\1/p'; }
base=$(ppl_of)
echo "| type | perplexity | vs bf16 |"
echo "|---|---|---|"
echo "| bf16 | $base | |"
for t in "${types[@]}"; do
  p=$(ppl_of --isq "$t")
  python3 -c "import sys; b,p=float('$base'),float('$p'); print(f'| $t | {p:.4f} | {100*(p-b)/b:+.2f}% |')"
done
