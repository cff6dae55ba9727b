#!/bin/bash
# The probe of probe_best.sh on the seeded 300 of the movies test split (the out-of-domain sample
# of the earlier test tables): does the hinted runs' small AUC edge on movies valid hold on test?
# Reporting only: nothing is chosen on it. Then auc.py tabulates it. Resumable.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
OUT=runs/rollout_pull/probe_test
mkdir -p $OUT
i=0
for adapter in runs/sft600/final/adapter runs/grpo/{from_sft600,unbalanced,unbalanced_nohints,unbalanced_goldadv}/best/adapter; do
  [ -f $OUT/$i-movies/metrics.json ] || .venv/bin/emoreason evaluate -d vader:movies --split test --sample 300 --seed 0 \
    --max-new-tokens 8 --adapter $adapter --out $OUT/$i-movies > $OUT/$i-movies.log 2>&1
  i=$((i + 1))
done
.venv/bin/python docs/results/rollout_pull/auc.py $OUT movies > docs/results/rollout_pull/auc_test.txt
