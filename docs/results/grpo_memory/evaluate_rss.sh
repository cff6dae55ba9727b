#!/bin/bash
# RSS of an evaluate run over time (sampled every 5 s): does the resident size grow batch after batch?
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
OUT=runs/memory/eval${1:-200}
mkdir -p runs/memory
rm -rf $OUT
.venv/bin/emoreason evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
  -d vader:movies --split valid --sample ${1:-200} --out $OUT > $OUT.log 2>&1 &
PID=$!
while kill -0 $PID 2>/dev/null; do
  echo "$(date +%s) $(awk '/VmRSS/{print $2}' /proc/$PID/status 2>/dev/null)" >> $OUT.rss
  sleep 5
done
wc -l < $OUT/predictions.jsonl
