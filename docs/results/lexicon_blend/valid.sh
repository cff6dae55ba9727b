#!/bin/bash
# the shipped default's greedy answers on every sentence of the three valid splits (the same command as
# score_calibration/valid.sh; its answers were lost with runs/), for analyze.py
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
mkdir -p runs/blend/valid
for d in tweets products movies; do
  out=runs/blend/valid/shipped-$d-all
  [ -f $out/metrics.json ] || .venv/bin/emoreason evaluate --max-new-tokens 192 --out $out -d vader:$d --split valid > $out.log 2>&1
  echo "$d done $(date +%T)"
done
