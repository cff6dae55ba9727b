#!/bin/bash
# after valid.sh: the shipped default's greedy answers to every sentence of the three test splits
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
while pgrep -f score_calibration/valid.sh > /dev/null; do sleep 20; done
mkdir -p runs/calib/test
for d in tweets products movies; do
  out=runs/calib/test/shipped-$d-all
  [ -f $out/metrics.json ] || .venv/bin/emoreason evaluate --max-new-tokens 192 --out $out -d vader:$d --split test > $out.log 2>&1
  echo "$d done $(date +%T)"
done
