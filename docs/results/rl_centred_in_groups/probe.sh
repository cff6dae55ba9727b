#!/bin/bash
# The polarity probe of docs/results/rollout_pull/probe.sh on this run's checkpoints of steps 10
# and 20 (and later ones, when the run was taken further), beside the start's figures (linked):
# does a shared shift of every domain's log-odds remain? probe.py tabulates. Resumable.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
OUT=runs/rl_centred_in_groups/probe
mkdir -p $OUT
for domain in movies tweets products; do ln -sfn ../../rollout_pull/probe/0-$domain $OUT/0-$domain; done
for step in 10 20 30 40 50 60; do
  [ -d runs/grpo/centred_in_groups/checkpoint-$step/adapter ] || continue
  for domain in movies tweets products; do
    [ -f $OUT/$step-$domain/metrics.json ] && continue
    .venv/bin/emoreason evaluate -d vader:$domain --split valid --sample 200 --seed 0 \
      --max-new-tokens 8 --adapter runs/grpo/centred_in_groups/checkpoint-$step/adapter \
      --out $OUT/$step-$domain > $OUT/$step-$domain.log 2>&1
  done
done
.venv/bin/python docs/results/rollout_pull/probe.py $OUT > docs/results/rl_centred_in_groups/probe.txt
