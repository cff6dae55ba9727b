#!/bin/bash
# Where the run's updates pushed the answers: the advantage summed by gold and answer, over the
# whole run, in windows of 10 steps, and per source domain (the sample id's prefix).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
RUN=runs/grpo/unbalanced_rollouts
OUT=docs/results/rollout_pull
.venv/bin/emoreason rollouts $RUN --every 10 --out $OUT/pull.json > $OUT/pull.txt
for domain in tweets products; do
  .venv/bin/emoreason rollouts $RUN --domain $domain --every 20 >> $OUT/pull.txt
done
