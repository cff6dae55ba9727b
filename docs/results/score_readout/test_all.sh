#!/bin/bash
# Every test sentence of the three VADER domains, the shipped default then the SFT adapter,
# greedy, grounded quoting, default (confidence) readout; records keep written_score too.
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1
for who in shipped sft; do
  for d in tweets products movies; do
    extra=(); [ "$who" = sft ] && extra=(--adapter runs/sft_adapter)
    .venv/bin/emoreason evaluate -d vader:$d --split test --max-new-tokens 192 "${extra[@]}" \
      --out runs/readout/test_all/$who-$d > runs/readout/test_all/$who-$d.log 2>&1
    echo "$who $d done $(date +%T)"
  done
done
