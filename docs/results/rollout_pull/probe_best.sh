#!/bin/bash
# The same probe (probe.sh) on the best/ adapter of each earlier RL run from SFT 600: did any of
# them tell negative from positive sentences better at the answer's first tag, or only move the
# threshold? Resumable.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
OUT=runs/rollout_pull/probe_best
mkdir -p $OUT
ln -sfn ../probe/0-movies $OUT/0-movies; ln -sfn ../probe/0-tweets $OUT/0-tweets; ln -sfn ../probe/0-products $OUT/0-products
# step numbers stand for runs here: 1 balanced stream, 2 unbalanced (= probe.sh's 45th step's run), 3 no hints, 4 balanced advantages
i=1
for run in from_sft600 unbalanced unbalanced_nohints unbalanced_goldadv; do
  for domain in movies tweets products; do
    [ -f $OUT/$i-$domain/metrics.json ] && continue
    .venv/bin/emoreason evaluate -d vader:$domain --split valid --sample 200 --seed 0 \
      --max-new-tokens 8 --adapter runs/grpo/$run/best/adapter --out $OUT/$i-$domain > $OUT/$i-$domain.log 2>&1
  done
  i=$((i + 1))
done
.venv/bin/python docs/results/rollout_pull/probe.py $OUT > docs/results/rollout_pull/probe_best.txt
