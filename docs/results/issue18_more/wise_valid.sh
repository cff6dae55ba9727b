#!/bin/sh
# issue 18: SFT/GRPO weight interpolation (WiSE-FT) on the seeded 200 per valid split, paired against the SFT adapter (runs/valid/sft)
set -eu
cd /work/main
for pair in "$@"; do
  SPLIT=valid EVAL_OPTIONS=--free-quotes scripts/compare_adapters.sh runs/valid 200 sft=runs/sft_adapter "$pair"
done
echo "== done $(date)"
