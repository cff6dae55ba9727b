#!/bin/bash
# Waits for train.sh's run, then evaluates its best/ on the seeded 200 of each valid split (the
# sentences and settings of docs/results/longer_sft/valid.sh, whose sft600 folders, the shipped
# default's fp32 original, are A) and prints the paired differences.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
while pgrep -f "rl_unbalanced/grpo.yaml" > /dev/null; do sleep 30; done
mkdir -p runs/rl_unbalanced/valid
for d in movies tweets products; do
  out=runs/rl_unbalanced/valid/best-$d
  [ -f $out/metrics.json ] && continue
  .venv/bin/emoreason evaluate -d vader:$d --split valid --sample 200 --max-new-tokens 192 \
    --adapter runs/grpo/unbalanced/best/adapter --out $out > $out.log 2>&1
  echo "best valid $d done $(date +%T)"
done
for d in tweets products movies; do
  echo "== valid $d: best - sft600"
  .venv/bin/emoreason compare runs/longer_sft/valid/sft600-$d runs/rl_unbalanced/valid/best-$d \
    --out runs/rl_unbalanced/valid/best-$d-vs-sft600.json
done
