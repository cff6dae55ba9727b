#!/bin/bash
# The rated-first rule on the test splits, described after valid decided (test_check.py has the why).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
P=docs/results/rated_cues
.venv/bin/python $P/test_check.py select
for d in tweets products movies; do
  out=runs/rated_cues/test/$d
  [ -f $out/metrics.json ] || .venv/bin/emoreason evaluate --max-new-tokens 192 --score-readout confidence \
    --no-name-negations --adapter src/emoreason/resources/default_adapter --out $out \
    -d "jsonl:runs/rated_cues/test/$d.jsonl?scale=-4,4&neutral=0.5" --split all > $out.log 2>&1
  echo "$d done $(date +%T)"
done
.venv/bin/python $P/test_check.py compare | tee $P/test.txt
