#!/bin/bash
# A longer cold start (600 SFT steps, about 1.7 epochs of the 2,900 kept lexicon chains) against
# the shipped SFT adapter (150 steps) and the shipped default (the RL soup), on the seeded 200 of
# each valid split; greedy, at most 192 new tokens, default readout. Waits for the SFT run.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
while pgrep -f "run.output_dir=runs/sft600" > /dev/null; do sleep 20; done
declare -A ADAPTER=([sft600]="--adapter runs/sft600/final/adapter" [sft150]="--adapter runs/sft_adapter" [shipped]="")
for who in sft600 sft150 shipped; do
  for d in movies tweets products; do
    out=runs/longer_sft/valid/$who-$d
    [ -f $out/metrics.json ] && continue
    .venv/bin/emoreason evaluate -d vader:$d --split valid --sample 200 --max-new-tokens 192 ${ADAPTER[$who]} \
      --out $out > $out.log 2>&1
    echo "$who valid $d done $(date +%T)"
  done
done
