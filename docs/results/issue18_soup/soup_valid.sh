#!/bin/sh
# issue 18: adapter soups on the seeded 200 per valid split, paired against the shipped adapter (runs/valid/sft)
set -eu
cd /work/main
for pair in "$@"; do
  SPLIT=valid EVAL_OPTIONS=--free-quotes scripts/compare_adapters.sh runs/valid 200 sft=default "$pair"
done
echo "== done $(date)"
