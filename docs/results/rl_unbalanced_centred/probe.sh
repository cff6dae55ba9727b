#!/bin/bash
# The polarity probe of docs/results/rollout_pull/probe.sh on the centred run: the start's figures
# (linked from that probe) and the checkpoints of steps 20, 40 and 60, on the seeded 200 of each
# valid split, decoding only the answer's first tag. Did centring remove the shift of every
# domain's log-odds by the same amount? probe.py tabulates. Resumable.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
OUT=runs/rl_unbalanced_centred/probe
mkdir -p $OUT
for domain in movies tweets products; do ln -sfn ../../rollout_pull/probe/0-$domain $OUT/0-$domain; done
for step in 20 40 60; do
  for domain in movies tweets products; do
    [ -f $OUT/$step-$domain/metrics.json ] && continue
    .venv/bin/emoreason evaluate -d vader:$domain --split valid --sample 200 --seed 0 \
      --max-new-tokens 8 --adapter runs/grpo/unbalanced_centred/checkpoint-$step/adapter \
      --out $OUT/$step-$domain > $OUT/$step-$domain.log 2>&1
  done
done
.venv/bin/python docs/results/rollout_pull/probe.py $OUT > docs/results/rl_unbalanced_centred/probe.txt
