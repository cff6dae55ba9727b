#!/bin/bash
# After test_all.sh: the SFT adapter on the seeded 200 of each valid split, default readout.
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1
while pgrep -f test_all.sh > /dev/null; do sleep 10; done
for d in tweets products movies; do
  .venv/bin/emoreason evaluate -d vader:$d --split valid --sample 200 --max-new-tokens 192 --adapter runs/sft_adapter \
    --out runs/readout/valid/sft-$d > runs/readout/valid/sft-$d.log 2>&1
  echo "sft valid $d done $(date +%T)"
done
