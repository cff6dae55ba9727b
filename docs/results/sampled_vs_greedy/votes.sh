#!/bin/bash
# As run.sh, with four samples per sentence at temperature 0.8 (evaluate --votes 4 keeps every
# answer's polarity); compare.py then counts over all four.
cd "$(dirname "$0")/../../.."; export HF_HUB_OFFLINE=1
.venv/bin/emoreason evaluate -d vader:tweets --split train --sample 300 --seed 0 --max-new-tokens 160 \
  --adapter runs/sft600/final/adapter --dtype bfloat16 --free-quotes --temperature 0.8 --votes 4 \
  --out runs/sampled_vs_greedy/t0.8x4 > runs/sampled_vs_greedy/t0.8x4.log 2>&1
echo "t0.8x4 done $(date +%T)"
