#!/bin/bash
# Seed 3 in domain, as run.sh described seeds 1 and 2 (description, not a condition): greedy answers of
# its step 60 on every tweets and products valid sentence, paired with SFT 600's (run.sh's answers).
# Added after seed3.sh's movies figures were in; it decides nothing. Output: seed3_valid.txt (compare's tables).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/rl_seeds/valid
for d in tweets products; do
  [ -f $R/s3-$d-all/metrics.json ] || $E evaluate --max-new-tokens 192 \
    --adapter runs/grpo/agreement_s3/checkpoint-60/adapter --out $R/s3-$d-all -d vader:$d --split valid > $R/s3-$d-all.log 2>&1
  $E compare $R/sft600-$d-all $R/s3-$d-all --out $R/s3-vs-sft600-$d.json  # prints B - A with intervals
done
