#!/bin/bash
# The polarity probe of probe.sh on a GRPO run's checkpoints, beside the start's figures (linked
# from probe.sh's output): the seeded 200 of each valid split, decoding only the answer's first tag
# (8 new tokens), then probe.py's table. Resumable; checkpoints that do not exist are skipped.
# Usage: probe_checkpoints.sh RUN TABLE STEP... (RUN: the folder under runs/grpo; TABLE: where
# probe.py's output goes)
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
run=$1 table=$2
shift 2
OUT=runs/probe/$run
mkdir -p $OUT
for domain in movies tweets products; do ln -sfn ../../rollout_pull/probe/0-$domain $OUT/0-$domain; done
for step in "$@"; do
  adapter=runs/grpo/$run/checkpoint-$step/adapter
  [ -d $adapter ] || continue
  for domain in movies tweets products; do
    [ -f $OUT/$step-$domain/metrics.json ] && continue
    .venv/bin/emoreason evaluate -d vader:$domain --split valid --sample 200 --seed 0 \
      --max-new-tokens 8 --adapter $adapter --out $OUT/$step-$domain > $OUT/$step-$domain.log 2>&1
  done
done
.venv/bin/python docs/results/rollout_pull/probe.py $OUT > $table
