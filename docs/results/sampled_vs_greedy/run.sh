#!/bin/bash
# The shipped default (fp32 original of the 600-step SFT adapter) on a seeded 300 of the tweets train
# split, decoded as GRPO rollouts are (bf16, free quoting, at most 160 new tokens): greedy, then one
# sample at temperature 0.8 per sentence. compare.py counts, per gold polarity, how often sampling
# changes a right greedy answer. RESULTS, thirteenth session.
cd "$(dirname "$0")/../../.."; export HF_HUB_OFFLINE=1
for t in 0.0 0.8; do
  .venv/bin/emoreason evaluate -d vader:tweets --split train --sample 300 --seed 0 --max-new-tokens 160 \
    --adapter runs/sft600/final/adapter --dtype bfloat16 --free-quotes --temperature $t \
    --out runs/sampled_vs_greedy/t$t > runs/sampled_vs_greedy/t$t.log 2>&1
  echo "t$t done $(date +%T)"
done
