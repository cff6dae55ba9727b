#!/bin/bash
# The polarity the policy would answer, as probabilities, along the run: the start (SFT 600) and
# every tenth step's adapter, on the seeded 200 of each valid split, decoding only the answer's
# first tag (8 new tokens: `evaluate` records the polarity's probabilities at its position).
# Then probe.py tabulates them. Resumable: a finished (adapter, domain) pair is skipped.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
OUT=runs/rollout_pull/probe
mkdir -p $OUT
for step in 0 10 20 30 40 50 60; do
  adapter=runs/grpo/unbalanced_rollouts_adapters/$step
  [ $step = 0 ] && adapter=runs/sft600/final/adapter
  for domain in movies tweets products; do
    [ -f $OUT/$step-$domain/metrics.json ] && continue
    .venv/bin/emoreason evaluate -d vader:$domain --split valid --sample 200 --seed 0 \
      --max-new-tokens 8 --adapter $adapter --out $OUT/$step-$domain > $OUT/$step-$domain.log 2>&1
  done
done
.venv/bin/python docs/results/rollout_pull/probe.py $OUT > docs/results/rollout_pull/probe.txt
